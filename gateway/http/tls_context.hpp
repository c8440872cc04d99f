// Server-side TLS settings for a client-facing listener, built once at start-up from a
// certificate chain and a private key (PEM files): TLS 1.2 minimum (1.3 preferred by OpenSSL's
// negotiation), ECDHE + AEAD ciphers only for 1.2, server cipher preference, ALPN "http/1.1",
// session tickets on. Failures are config_errors naming the file and the config key.
#pragma once

#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace laneway::http {

struct tls_files {
  std::string cert_file;  // PEM: the server certificate first, then intermediates
  std::string key_file;   // PEM: the private key of the first certificate
  std::string cert_key = "tls.cert_file";  // config key names for messages
  std::string key_key = "tls.key_file";
};

// Throws config_error "source: tls.key_file: ..." for a missing or unreadable file, a file that
// is not PEM, or a key that does not match the certificate.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const tls_files& files, const std::string& source);

// Seconds until the chain's first certificate expires (negative: already expired).
long long tls_seconds_until_expiry(boost::asio::ssl::context& ctx);

}  // namespace laneway::http
