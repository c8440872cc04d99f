// TLS from the gateway to one https node: the client context built from the node's tls_* keys
// (CA file or the system store, an optional client certificate for rented hosts), and the
// handshake that every connection to the node makes: SNI and the name verified (tls_server_name,
// else the URL's host), the chain verified, then the optional pin (SHA-256 of the node's leaf
// certificate). A pin without a CA file trusts exactly the pinned certificate (self-signed
// hosts). Handshake time is a histogram per node; failures are counted per node and reason and
// logged once per change of reason, so a failing node says why without flooding the log.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "gateway/config.hpp"
#include "gateway/http/client_stream.hpp"
#include "gateway/http/error.hpp"

namespace prometheus {
class Histogram;
}

namespace laneway::gateway {

class gateway_metrics;

class upstream_tls {
 public:
  // Never throws: the files were checked when the config was loaded (validate); one that
  // went bad since then fails every handshake with the reason instead of stopping a reload.
  upstream_tls(const node_config& node, gateway_metrics& metrics);
  ~upstream_tls();

  // Nullptr when the context could not be built; problem() says why.
  boost::asio::ssl::context* context() const { return context_.get(); }
  const std::string& problem() const { return problem_; }
  const std::string& server_name() const { return server_name_; }

  // The client side of the handshake over a connected `stream`, within `timeout`.
  // Errors: upstream_connect with the reason (verification, pin, timeout).
  boost::asio::awaitable<http::result<bool>> handshake(http::tls_stream& stream, std::chrono::milliseconds timeout) const;
  // The node ended the TLS session with an alert after the handshake (reason "alert"): counted
  // and logged like a handshake failure. Returns the message for the caller's error.
  std::string refused(const std::string& alert) const;

 private:
  void failed(std::string_view reason, const std::string& detail) const;
  void succeeded(double seconds) const;

  std::string node_;
  std::string server_name_;
  std::string pin_;  // lowercase hex; empty: no pin
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::string problem_;  // why context_ is null
  gateway_metrics& metrics_;
  prometheus::Histogram* seconds_;
  mutable std::mutex mutex_;
  mutable std::string last_failure_;  // logged once per change
  mutable std::string_view last_reason_;
};

}  // namespace laneway::gateway
