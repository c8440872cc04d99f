// Reloadable listener certificates (see tls_listener.hpp).
#include "gateway/http/tls_listener.hpp"

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "gateway/http/log.hpp"

namespace laneway::http {

namespace ssl = boost::asio::ssl;

tls_listener::tls_listener(std::shared_ptr<ssl::context> front) : front_(std::move(front)), current_(front_) {
  SSL_CTX_set_client_hello_cb(front_->native_handle(), &tls_listener::on_client_hello, this);
}

tls_listener::~tls_listener() { SSL_CTX_set_client_hello_cb(front_->native_handle(), nullptr, nullptr); }

int tls_listener::on_client_hello(SSL* ssl, int*, void* arg) {
  auto* self = static_cast<tls_listener*>(arg);
  std::shared_ptr<ssl::context> current;
  {
    std::lock_guard lock(self->mutex_);
    current = self->current_;
  }
  SSL_CTX* next = current->native_handle();
  if (next == SSL_get_SSL_CTX(ssl)) return SSL_CLIENT_HELLO_SUCCESS;
  // The SSL takes a reference on `next`, so a later reload cannot free it under this connection.
  // Verification settings were copied from the front context when the SSL was made: copy the
  // new context's, so a reload can also change client_certs and the CA names offered.
  SSL_set_SSL_CTX(ssl, next);
  SSL_set_verify(ssl, SSL_CTX_get_verify_mode(next), nullptr);
  SSL_set_verify_depth(ssl, SSL_CTX_get_verify_depth(next));
  if (STACK_OF(X509_NAME)* names = SSL_CTX_get_client_CA_list(next)) SSL_set_client_CA_list(ssl, SSL_dup_CA_list(names));
  return SSL_CLIENT_HELLO_SUCCESS;
}

certificate_facts tls_listener::reload(const tls_listener_config& config, const std::string& source) {
  auto fresh = make_server_tls_context(config, source);
  auto facts = context_certificate(*fresh).value_or(certificate_facts{});
  std::lock_guard lock(mutex_);
  current_ = std::move(fresh);
  return facts;
}

certificate_facts tls_listener::current_certificate() const {
  std::lock_guard lock(mutex_);
  return context_certificate(*current_).value_or(certificate_facts{});
}

void log_certificate(const std::string& what, const std::string& file, const certificate_facts& facts) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const long long left = facts.not_after - now;
  nlohmann::json fields = {{"listener", what},       {"cert_file", file},
                           {"sha256", facts.sha256}, {"subject_cn", facts.subject_cn},
                           {"not_after", facts.not_after}, {"days_left", left / 86400}};
  log_event_always(log_level::info, "TLS certificate loaded", fields);
  if (left < 0)
    log_event_always(log_level::warn, "the TLS certificate has expired; clients will refuse it", fields);
  else if (left < 14 * 86400)
    log_event_always(log_level::warn, "the TLS certificate expires soon", fields);
}

}  // namespace laneway::http

namespace laneway::http {

std::optional<certificate_facts> reload_certificate(tls_listener& listener, const tls_listener_config& config,
                                                    const std::string& what, const std::string& source) {
  try {
    auto facts = listener.reload(config, source);
    log_certificate(what, config.cert_file, facts);
    return facts;
  } catch (const std::exception& e) {
    log_event(log_level::error, "TLS certificate reload failed; the loaded certificate stays",
              {{"listener", what}, {"error", e.what()}});
    return std::nullopt;
  }
}

}  // namespace laneway::http
