// A TLS listener's certificates, replaceable while it serves (SIGHUP). The server listens with one
// fixed "front" context; OpenSSL's client-hello callback moves every new handshake onto the
// newest loaded context (SSL_set_SSL_CTX, as SNI switching does), so new connections get the new
// chain, key and client CA while established ones keep what they started with. Session tickets
// stay those of the front context, so tickets issued before a reload still resume after it.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "gateway/http/tls_context.hpp"

namespace laneway::http {

class tls_listener {
 public:
  // Serves with `front` (make_server_tls_context) until the first reload.
  explicit tls_listener(std::shared_ptr<boost::asio::ssl::context> front);
  ~tls_listener();
  tls_listener(const tls_listener&) = delete;
  tls_listener& operator=(const tls_listener&) = delete;

  // What server::listen gets; lives as long as this object.
  std::shared_ptr<boost::asio::ssl::context> front() const { return front_; }
  // Loads the files again. On success new handshakes use them; on failure (config_error, naming
  // the file) the loaded certificate stays. Safe from any thread.
  certificate_facts reload(const tls_listener_config& config, const std::string& source);
  certificate_facts current_certificate() const;

 private:
  static int on_client_hello(ssl_st* ssl, int* alert, void* self);

  std::shared_ptr<boost::asio::ssl::context> front_;
  mutable std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> current_;
};

// Logs a loaded certificate ("TLS certificate loaded": file, SHA-256 fingerprint, subject CN,
// not-after) and warns when it has expired or expires within 14 days.
void log_certificate(const std::string& what, const std::string& file, const certificate_facts& facts);

// SIGHUP for a listener: reload() and log the loaded certificate, or log the error (naming the
// file and key) and keep the old one. The new certificate's facts when it took.
std::optional<certificate_facts> reload_certificate(tls_listener& listener, const tls_listener_config& config,
                                                    const std::string& what, const std::string& source);

}  // namespace laneway::http
