// Upstream TLS per node (see upstream_tls.hpp).
#include "gateway/upstream_tls.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include "gateway/http/log.hpp"
#include "gateway/http/tls_context.hpp"
#include "gateway/metrics.hpp"

namespace laneway::gateway {

namespace ssl = boost::asio::ssl;

// The node's latest resumable session, replaced by every new ticket. Each I/O thread's
// connections read and write it, hence the mutex. It holds copies, in and out: OpenSSL marks a
// connection's session not resumable when the connection is freed without a close_notify (as
// pooled and probe connections are closed), and that must not spoil the kept one. Owned by the
// client SSL_CTX (ex_data): a probe or poller connection that outlives its node may still
// receive a ticket, and finds the slot as long as its SSL holds the context.
class tls_session_slot {
 public:
  ~tls_session_slot() { forget(); }
  void keep(const SSL_SESSION* session) {
    SSL_SESSION* copy = SSL_SESSION_dup(session);
    if (!copy) return;  // out of memory: keep the previous one
    std::lock_guard lock(mutex_);
    if (latest_) SSL_SESSION_free(latest_);
    latest_ = copy;
  }
  // A copy of the kept session for one connection (the caller frees it), or null.
  SSL_SESSION* copy() {
    std::lock_guard lock(mutex_);
    return latest_ ? SSL_SESSION_dup(latest_) : nullptr;
  }
  void forget() {
    std::lock_guard lock(mutex_);
    if (latest_) SSL_SESSION_free(latest_);
    latest_ = nullptr;
  }

 private:
  std::mutex mutex_;
  SSL_SESSION* latest_ = nullptr;
};

namespace {

void free_slot(void*, void* slot, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<tls_session_slot*>(slot); }

int slot_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_slot);
  return index;
}

// OpenSSL's new-session callback: a completed TLS 1.2 handshake, or a TLS 1.3 NewSessionTicket
// read after the handshake. Returns 0: OpenSSL keeps its reference (the slot keeps a copy).
int on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* slot = static_cast<tls_session_slot*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), slot_index()));
  if (slot && SSL_SESSION_is_resumable(session) == 1) slot->keep(session);
  return 0;
}

// Client-side session caching through the callback only (OpenSSL's internal client store is
// keyed by nothing useful to us).
tls_session_slot* attach_session_slot(ssl::context& ctx) {
  SSL_CTX* native = ctx.native_handle();
  auto* slot = new tls_session_slot;
  if (SSL_CTX_set_ex_data(native, slot_index(), slot) != 1) {
    delete slot;
    return nullptr;  // no resumption; every handshake is a full one
  }
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(native, on_new_session);
  return slot;
}

}  // namespace

upstream_tls::upstream_tls(const node_config& node, gateway_metrics& metrics)
    : node_(node.name),
      server_name_(node.tls.server_name.empty() ? node.url.host : node.tls.server_name),
      pin_(node.tls.pin_sha256),
      metrics_(metrics),
      seconds_(metrics.upstream_tls_histogram(node.name)),
      full_(metrics.upstream_tls_handshakes(node.name, "full")),
      resumed_(metrics.upstream_tls_handshakes(node.name, "resumed")),
      failed_(metrics.upstream_tls_handshakes(node.name, "failed")) {
  try {
    context_ = http::make_client_tls_context(node.tls.files("tls_"), node.tls.verifies_chain(), "node " + node.name);
    sessions_ = attach_session_slot(*context_);
  } catch (const std::exception& e) {
    problem_ = e.what();
    http::log_event(http::log_level::error, "upstream TLS settings cannot be loaded; the node stays unhealthy",
                    {{"node", node_}, {"error", problem_}});
  }
}

upstream_tls::~upstream_tls() = default;

boost::asio::awaitable<http::result<bool>> upstream_tls::handshake(http::tls_stream& stream,
                                                                   std::chrono::milliseconds timeout) const {
  SSL* ssl = stream.native_handle();
  boost::system::error_code ip_ec;
  boost::asio::ip::make_address(server_name_, ip_ec);
  if (ip_ec) {  // a DNS name: sent as SNI and matched against the certificate's names
    SSL_set_tlsext_host_name(ssl, server_name_.c_str());
    SSL_set1_host(ssl, server_name_.c_str());
  } else {  // an address: no SNI (RFC 6066), matched against the certificate's IP entries
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name_.c_str());
  }
  if (SSL_SESSION* offered = sessions_ ? sessions_->copy() : nullptr) {
    SSL_set_session(ssl, offered);  // takes its own reference
    SSL_SESSION_free(offered);
  }
  const auto started = std::chrono::steady_clock::now();
  stream.next_layer().expires_after(timeout);
  auto [ec] = co_await stream.async_handshake(ssl::stream_base::client, boost::asio::as_tuple(boost::asio::use_awaitable));
  stream.next_layer().expires_never();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const std::string what = "TLS handshake with node " + node_ + " (" + server_name_ + ") ";
  if (ec) {
    const long verify = SSL_get_verify_result(ssl);
    std::string_view reason = "handshake_failed";
    std::string detail = what + "failed: " + ec.message();
    if (ec == boost::beast::error::timeout) {
      reason = "timeout";
      detail = what + "timed out";
    } else if (verify != X509_V_OK) {
      reason = "verify_failed";
      detail = what + "failed: certificate verification: " + X509_verify_cert_error_string(verify);
    }
    failed_->Increment();
    failed(reason, detail);
    co_return http::make_error(http::error_kind::upstream_connect, detail);
  }
  const bool resumed = SSL_session_reused(ssl) == 1;
  // On a resumed session the peer certificate is the one the session was made with.
  if (!pin_.empty()) {
    auto facts = http::describe_certificate(SSL_get0_peer_certificate(ssl));
    if (facts.sha256 != pin_) {
      std::string detail =
          what + "failed: the node's certificate has SHA-256 " + facts.sha256 + ", not the pinned " + pin_;
      failed_->Increment();
      failed("pin_mismatch", detail);
      co_return http::make_error(http::error_kind::upstream_connect, detail);
    }
  }
  succeeded(seconds, resumed);
  co_return resumed;
}

std::string upstream_tls::refused(const std::string& alert) const {
  std::string detail = "TLS session with node " + node_ + " (" + server_name_ + ") refused by the node: " + alert;
  failed("alert", detail);
  return detail;
}

void upstream_tls::failed(std::string_view reason, const std::string& detail) const {
  // Whatever the session was, the next connection starts afresh.
  if (sessions_) sessions_->forget();
  metrics_.upstream_tls_failure(node_, reason);
  std::lock_guard lock(mutex_);
  if (detail == last_failure_) return;
  last_failure_ = detail;
  last_reason_ = reason;
  http::log_event(http::log_level::warn, "upstream TLS handshake failed",
                  {{"node", node_}, {"reason", std::string(reason)}, {"error", detail}});
}

void upstream_tls::succeeded(double seconds, bool resumed) const {
  seconds_->Observe(seconds);
  (resumed ? resumed_ : full_)->Increment();
  std::lock_guard lock(mutex_);
  // After an alert the handshake itself succeeds every time: only the node's answer says more.
  if (last_failure_.empty() || last_reason_ == "alert") return;
  last_failure_.clear();
  http::log_event(http::log_level::info, "upstream TLS handshake succeeds again", {{"node", node_}});
}

}  // namespace laneway::gateway
