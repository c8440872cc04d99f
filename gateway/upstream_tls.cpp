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
#include <prometheus/histogram.h>

#include "gateway/http/log.hpp"
#include "gateway/http/tls_context.hpp"
#include "gateway/metrics.hpp"

namespace laneway::gateway {

namespace ssl = boost::asio::ssl;

upstream_tls::upstream_tls(const node_config& node, gateway_metrics& metrics)
    : node_(node.name),
      server_name_(node.tls.server_name.empty() ? node.url.host : node.tls.server_name),
      pin_(node.tls.pin_sha256),
      metrics_(metrics),
      seconds_(metrics.upstream_tls_histogram(node.name)) {
  try {
    context_ = http::make_client_tls_context(node.tls.files("tls_"), node.tls.verifies_chain(), "node " + node.name);
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
    failed(reason, detail);
    co_return http::make_error(http::error_kind::upstream_connect, detail);
  }
  if (!pin_.empty()) {
    auto facts = http::describe_certificate(SSL_get0_peer_certificate(ssl));
    if (facts.sha256 != pin_) {
      std::string detail =
          what + "failed: the node's certificate has SHA-256 " + facts.sha256 + ", not the pinned " + pin_;
      failed("pin_mismatch", detail);
      co_return http::make_error(http::error_kind::upstream_connect, detail);
    }
  }
  succeeded(seconds);
  co_return true;
}

std::string upstream_tls::refused(const std::string& alert) const {
  std::string detail = "TLS session with node " + node_ + " (" + server_name_ + ") refused by the node: " + alert;
  failed("alert", detail);
  return detail;
}

void upstream_tls::failed(std::string_view reason, const std::string& detail) const {
  metrics_.upstream_tls_failure(node_, reason);
  std::lock_guard lock(mutex_);
  if (detail == last_failure_) return;
  last_failure_ = detail;
  last_reason_ = reason;
  http::log_event(http::log_level::warn, "upstream TLS handshake failed",
                  {{"node", node_}, {"reason", std::string(reason)}, {"error", detail}});
}

void upstream_tls::succeeded(double seconds) const {
  seconds_->Observe(seconds);
  std::lock_guard lock(mutex_);
  // After an alert the handshake itself succeeds every time: only the node's answer says more.
  if (last_failure_.empty() || last_reason_ == "alert") return;
  last_failure_.clear();
  http::log_event(http::log_level::info, "upstream TLS handshake succeeds again", {{"node", node_}});
}

}  // namespace laneway::gateway
