// TLS contexts (see tls_context.hpp). OpenSSL is called directly where asio::ssl has no wrapper
// (minimum version, ALPN, key check, CA lists), and its error queue becomes the message text.
#include "gateway/http/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl/context.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "gateway/http/config_error.hpp"

namespace laneway::http {

namespace ssl = boost::asio::ssl;

namespace {

// TLS 1.2 suites: forward secrecy (ECDHE) and AEAD only; no RC4, 3DES, CBC, export or NULL.
// TLS 1.3 keeps OpenSSL's default suites (all AEAD).
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

constexpr unsigned char alpn_http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

[[noreturn]] void fail(const std::string& source, const std::string& key, const std::string& why) {
  throw config_error(source + ": " + key + ": " + why);
}

void check_readable(const std::string& source, const std::string& key, const std::string& path) {
  if (path.empty()) fail(source, key, "must name a PEM file");
  std::ifstream in(path);
  if (!in) fail(source, key, "cannot read \"" + path + "\": " + std::strerror(errno));
}

int select_http11(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen,
                  void*) {
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, alpn_http11, sizeof alpn_http11, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;  // the client offers no http/1.1: go on without ALPN
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

// Reads a PEM private key; an encrypted one fails (no passphrase prompt on the terminal).
EVP_PKEY* read_private_key(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return nullptr;
  auto no_passphrase = [](char*, int, int, void*) { return 0; };
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, no_passphrase, nullptr);
  std::fclose(f);
  return key;
}

// Versions and ciphers shared by both sides.
void set_protocols(ssl::context& ctx, const std::string& source) {
  SSL_CTX* native = ctx.native_handle();
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_cipher_list(native, tls12_ciphers) != 1)
    throw config_error(source + ": the TLS cipher list was refused: " + openssl_errors());
}

// A certificate chain and its private key, checked to belong together.
void use_chain_and_key(SSL_CTX* native, const std::string& source, const std::string& cert_key,
                       const std::string& cert_file, const std::string& key_key, const std::string& key_file) {
  check_readable(source, cert_key, cert_file);
  check_readable(source, key_key, key_file);
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1)
    fail(source, cert_key, "\"" + cert_file + "\" is not a PEM certificate chain (" + openssl_errors() + ")");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(read_private_key(key_file), EVP_PKEY_free);
  if (!key)
    fail(source, key_key, "\"" + key_file + "\" is not an unencrypted PEM private key (" + openssl_errors() + ")");
  if (X509_check_private_key(SSL_CTX_get0_certificate(native), key.get()) != 1)
    fail(source, key_key,
         "the key in \"" + key_file + "\" does not match the certificate in " + cert_key + " (\"" + cert_file + "\")");
  if (SSL_CTX_use_PrivateKey(native, key.get()) != 1)
    fail(source, key_key, "\"" + key_file + "\" was refused (" + openssl_errors() + ")");
}

// Trust anchors from a PEM file (at least one certificate).
void load_ca_file(SSL_CTX* native, const std::string& source, const std::string& key, const std::string& file) {
  check_readable(source, key, file);
  ERR_clear_error();
  if (SSL_CTX_load_verify_locations(native, file.c_str(), nullptr) != 1)
    fail(source, key, "\"" + file + "\" holds no PEM CA certificate (" + openssl_errors() + ")");
}

}  // namespace

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "no detail from OpenSSL" : out;
}

std::shared_ptr<ssl::context> make_server_tls_context(const tls_listener_config& tls, const std::string& source) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  set_protocols(*ctx, source);
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_clear_options(native, SSL_OP_NO_TICKET);  // stateless resumption (tickets) on
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_SERVER);
  // Also required for resumption once client certificates are verified.
  static constexpr unsigned char session_context[] = "laneway";
  SSL_CTX_set_session_id_context(native, session_context, sizeof session_context - 1);
  SSL_CTX_set_alpn_select_cb(native, select_http11, nullptr);
  use_chain_and_key(native, source, "tls.cert_file", tls.cert_file, "tls.key_file", tls.key_file);

  if (tls.client_certs != client_cert_mode::off) {
    load_ca_file(native, source, "tls.client_ca_file", tls.client_ca_file);
    // The CA names sent in the CertificateRequest, so clients pick the matching certificate.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str());
    if (!names) fail(source, "tls.client_ca_file", "\"" + tls.client_ca_file + "\" holds no PEM CA certificate");
    SSL_CTX_set_client_CA_list(native, names);
    int mode = SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE;
    if (tls.client_certs == client_cert_mode::required) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(native, mode, nullptr);
    SSL_CTX_set_verify_depth(native, 8);
  }
  return ctx;
}

std::shared_ptr<ssl::context> make_client_tls_context(const client_tls_files& files, bool verify_chain,
                                                      const std::string& source) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = ctx->native_handle();
  set_protocols(*ctx, source);
  SSL_CTX_set_alpn_protos(native, alpn_http11, sizeof alpn_http11);
  if (!files.ca_file.empty()) {
    load_ca_file(native, source, files.key_prefix + "ca_file", files.ca_file);
  } else if (SSL_CTX_set_default_verify_paths(native) != 1) {
    throw config_error(source + ": " + files.key_prefix + "ca_file: the system trust store cannot be loaded (" +
                       openssl_errors() + "); name a CA file");
  }
  SSL_CTX_set_verify(native, verify_chain ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  if (!files.cert_file.empty() || !files.key_file.empty()) {
    use_chain_and_key(native, source, files.key_prefix + "cert_file", files.cert_file, files.key_prefix + "key_file",
                      files.key_file);
  }
  return ctx;
}

certificate_facts describe_certificate(X509* cert) {
  certificate_facts f;
  if (!cert) return f;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) == 1) {
    static constexpr char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < len; ++i) {
      f.sha256 += hex[md[i] >> 4];
      f.sha256 += hex[md[i] & 15];
    }
  }
  if (X509_NAME* subject = X509_get_subject_name(cert)) {
    char cn[256];
    int n = X509_NAME_get_text_by_NID(subject, NID_commonName, cn, sizeof cn);
    if (n > 0) f.subject_cn.assign(cn, static_cast<std::size_t>(n));
  }
  int days = 0, seconds = 0;
  // The difference from the epoch: ASN1_TIME_diff(from, to) with `from` at 1970-01-01.
  std::unique_ptr<ASN1_TIME, decltype(&ASN1_TIME_free)> epoch(ASN1_TIME_set(nullptr, 0), ASN1_TIME_free);
  if (epoch && ASN1_TIME_diff(&days, &seconds, epoch.get(), X509_get0_notAfter(cert)) == 1)
    f.not_after = static_cast<std::int64_t>(days) * 86400 + seconds;
  return f;
}

std::optional<certificate_facts> context_certificate(ssl::context& ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx.native_handle());
  if (!cert) return std::nullopt;
  return describe_certificate(cert);
}

std::optional<certificate_facts> verified_peer_certificate(SSL* ssl) {
  if (!ssl) return std::nullopt;
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (!cert || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  return describe_certificate(cert);
}

long long tls_seconds_until_expiry(ssl::context& ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx.native_handle());
  if (!cert) return 0;
  int days = 0, seconds = 0;
  if (ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert)) != 1) return 0;
  return static_cast<long long>(days) * 86400 + seconds;
}

}  // namespace laneway::http
