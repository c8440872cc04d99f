// One connection from the gateway to a node, plain TCP or TLS, as one stream type: pooled
// requests, relays, probes, load polls and the KV event stream read and write through it the
// same way. Reads and writes go through an http::client_stream view of the active layer (one
// copy of the plain/TLS dispatch); deadlines and socket() act on the TCP layer underneath.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <optional>

#include "gateway/http/client_stream.hpp"

namespace laneway::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;

class upstream_tls;

class upstream_stream {
 public:
  using executor_type = beast::tcp_stream::executor_type;

  explicit upstream_stream(asio::io_context& ioc) : ioc_(ioc), plain_(ioc) { view_.emplace(plain_); }
  upstream_stream(const upstream_stream&) = delete;
  upstream_stream& operator=(const upstream_stream&) = delete;

  // Before (re)connecting: a fresh TLS object over a fresh socket for a https node (`settings`
  // with its context), else the plain socket (closed by the caller). The old TLS state is
  // dropped (a new connection, a new session).
  void reset(const upstream_tls* settings, asio::ssl::context* context) {
    settings_ = context ? settings : nullptr;
    if (!context) {
      tls_.reset();
      view_.emplace(plain_);
      return;
    }
    tls_ = std::make_unique<http::tls_stream>(ioc_, *context);
    view_.emplace(*tls_);
  }
  // The node's TLS settings when this is a TLS connection (to count what the node refuses).
  const upstream_tls* settings() const { return settings_; }

  http::tls_stream* tls() { return tls_.get(); }
  bool is_tls() const { return tls_ != nullptr; }
  beast::tcp_stream& tcp() { return view_->tcp(); }
  asio::ip::tcp::socket& socket() { return view_->socket(); }
  executor_type get_executor() { return view_->get_executor(); }
  template <class Duration>
  void expires_after(Duration d) { view_->expires_after(d); }
  void expires_never() { view_->expires_never(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return view_->async_read_some(buffers, std::forward<Token>(token));
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return view_->async_write_some(buffers, std::forward<Token>(token));
  }

 private:
  asio::io_context& ioc_;
  beast::tcp_stream plain_;
  std::unique_ptr<http::tls_stream> tls_;
  const upstream_tls* settings_ = nullptr;
  std::optional<http::client_stream> view_;
};

}  // namespace laneway::gateway
