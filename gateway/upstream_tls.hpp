// TLS from the gateway to one https node: the client context built from the node's tls_* keys
// (CA file or the system store, an optional client certificate for rented hosts), and the
// handshake that every connection to the node makes: SNI and the name verified (tls_server_name,
// else the URL's host), the chain verified, then the optional pin (SHA-256 of the node's leaf
// certificate). A pin without a CA file trusts exactly the pinned certificate (self-signed
// hosts). Handshake time is a histogram per node; handshakes are counted by result (full,
// resumed, failed) and failures per node and reason, logged once per change of reason, so a
// failing node says why without flooding the log.
//
// Session resumption: the node's latest resumable session (a TLS 1.3 ticket, which arrives after
// the handshake, or a TLS 1.2 ticket) is kept here and offered by the next connection. It lives in
// this object, which is made per node and rebuilt when the node's tls_* keys change, so a session
// never crosses nodes or survives a change of CA, server name, pin or client certificate. The pin
// is checked on resumed sessions too (against the certificate the session carries).
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
class Counter;
class Histogram;
}

namespace laneway::gateway {

class gateway_metrics;
class tls_session_slot;

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

  // The client side of the handshake over a connected `stream`, within `timeout`, offering the
  // kept session. The value: whether the session was resumed. Errors: upstream_connect with the
  // reason (verification, pin, timeout).
  boost::asio::awaitable<http::result<bool>> handshake(http::tls_stream& stream, std::chrono::milliseconds timeout) const;
  // The node ended the TLS session with an alert after the handshake (reason "alert"): counted
  // and logged like a handshake failure. Returns the message for the caller's error.
  std::string refused(const std::string& alert) const;

 private:
  void failed(std::string_view reason, const std::string& detail) const;
  void succeeded(double seconds, bool resumed) const;

  std::string node_;
  std::string server_name_;
  std::string pin_;  // lowercase hex; empty: no pin
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::string problem_;  // why context_ is null
  gateway_metrics& metrics_;
  tls_session_slot* sessions_ = nullptr;  // owned by the SSL_CTX (ex_data), which may outlive this object
  prometheus::Histogram* seconds_;
  prometheus::Counter* full_;
  prometheus::Counter* resumed_;
  prometheus::Counter* failed_;
  mutable std::mutex mutex_;
  mutable std::string last_failure_;  // logged once per change
  mutable std::string_view last_reason_;
};

}  // namespace laneway::gateway
