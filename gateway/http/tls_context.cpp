// Server TLS context (see tls_context.hpp). OpenSSL is called directly where asio::ssl has no
// wrapper (minimum version, ALPN, key check), and its error queue becomes the message text.
#include "gateway/http/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

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

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "no detail from OpenSSL" : out;
}

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
  static constexpr unsigned char ours[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, ours, sizeof ours, in, inlen) != OPENSSL_NPN_NEGOTIATED)
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

}  // namespace

std::shared_ptr<ssl::context> make_server_tls_context(const tls_files& files, const std::string& source) {
  check_readable(source, files.cert_key, files.cert_file);
  check_readable(source, files.key_key, files.key_file);
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_clear_options(native, SSL_OP_NO_TICKET);  // stateless resumption (tickets) on
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_SERVER);
  static constexpr unsigned char session_context[] = "laneway";
  SSL_CTX_set_session_id_context(native, session_context, sizeof session_context - 1);
  if (SSL_CTX_set_cipher_list(native, tls12_ciphers) != 1)
    throw config_error(source + ": the TLS cipher list was refused: " + openssl_errors());
  SSL_CTX_set_alpn_select_cb(native, select_http11, nullptr);

  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(native, files.cert_file.c_str()) != 1)
    fail(source, files.cert_key, "\"" + files.cert_file + "\" is not a PEM certificate chain (" + openssl_errors() + ")");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(read_private_key(files.key_file), EVP_PKEY_free);
  if (!key)
    fail(source, files.key_key,
         "\"" + files.key_file + "\" is not an unencrypted PEM private key (" + openssl_errors() + ")");
  if (X509_check_private_key(SSL_CTX_get0_certificate(native), key.get()) != 1)
    fail(source, files.key_key,
         "the key in \"" + files.key_file + "\" does not match the certificate in " + files.cert_key + " (\"" +
             files.cert_file + "\")");
  if (SSL_CTX_use_PrivateKey(native, key.get()) != 1)
    fail(source, files.key_key, "\"" + files.key_file + "\" was refused (" + openssl_errors() + ")");
  return ctx;
}

long long tls_seconds_until_expiry(ssl::context& ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx.native_handle());
  if (!cert) return 0;
  int days = 0, seconds = 0;
  if (ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert)) != 1) return 0;
  return static_cast<long long>(days) * 86400 + seconds;
}

}  // namespace laneway::http
