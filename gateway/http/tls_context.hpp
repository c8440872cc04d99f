// TLS contexts built from PEM files, for both sides of a hop. Server: TLS 1.2 minimum (1.3
// preferred by OpenSSL's negotiation), ECDHE + AEAD ciphers only for 1.2, server cipher
// preference, ALPN "http/1.1", session tickets on, optional client certificates. Client (the
// gateway to a https node): the same versions and ciphers, verification against a CA file or the
// system store, an optional client certificate. Failures are config_errors naming the file and
// the config key. Also what logs and metrics may say about a certificate (never the certificate).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "gateway/http/tls_config.hpp"

namespace boost::asio::ssl {
class context;
}
struct ssl_st;
struct x509_st;

namespace laneway::http {

// Throws config_error "source: tls.key_file: ..." for a missing or unreadable file, a file that
// is not PEM, or a key that does not match the certificate; also for a bad client_ca_file.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const tls_listener_config& tls,
                                                                   const std::string& source);

struct client_tls_files {
  std::string ca_file;    // empty: the system's default trust store
  std::string cert_file;  // optional client certificate chain (with key_file)
  std::string key_file;
  std::string key_prefix;  // for messages: "nodes[2].tls_" → "nodes[2].tls_ca_file: ..."
};
// With `verify_chain` false the peer is not verified inside the handshake (a pin checks it after).
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(const client_tls_files& files, bool verify_chain,
                                                                   const std::string& source);

// What may be logged about a certificate.
struct certificate_facts {
  std::string sha256;      // lowercase hex of SHA-256 over the DER encoding (openssl x509 -fingerprint -sha256)
  std::string subject_cn;  // the subject's common name ("" when it has none)
  std::int64_t not_after = 0;  // Unix seconds
};
certificate_facts describe_certificate(x509_st* cert);
// The first certificate of a context's chain; nullopt when it has none.
std::optional<certificate_facts> context_certificate(boost::asio::ssl::context& ctx);
// The peer's certificate of an established connection when it was sent and verified.
std::optional<certificate_facts> verified_peer_certificate(ssl_st* ssl);

// Seconds until the chain's first certificate expires (negative: already expired).
long long tls_seconds_until_expiry(boost::asio::ssl::context& ctx);

// Drains OpenSSL's error queue of this thread into one line.
std::string openssl_errors();

}  // namespace laneway::http
