// The client side of one connection, plain TCP or TLS, behind one stream type: the session code,
// responses and every handler read and write through it, so limits, deadlines, drain and
// streaming behave the same over both. Deadlines (`expires_after`) and socket watching act on the
// TCP layer underneath, which the TLS layer also reads and writes through.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace laneway::http {

namespace asio = boost::asio;
namespace beast = boost::beast;

using tls_stream = beast::ssl_stream<beast::tcp_stream>;

class client_stream {
 public:
  using executor_type = beast::tcp_stream::executor_type;

  explicit client_stream(beast::tcp_stream& plain) : tcp_(plain) {}
  explicit client_stream(tls_stream& tls) : tcp_(tls.next_layer()), tls_(&tls) {}

  executor_type get_executor() { return tcp_.get_executor(); }
  bool is_tls() const { return tls_ != nullptr; }
  // The OpenSSL connection (peer certificate, session) when TLS; nullptr over plain TCP.
  ssl_st* native_tls() const { return tls_ ? tls_->native_handle() : nullptr; }
  beast::tcp_stream& tcp() { return tcp_; }
  asio::ip::tcp::socket& socket() { return tcp_.socket(); }
  template <class Duration>
  void expires_after(Duration d) { tcp_.expires_after(d); }
  void expires_never() { tcp_.expires_never(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(beast::error_code, std::size_t)>(
        [](auto handler, client_stream* self, const MutableBuffers& b) {
          if (self->tls_) self->tls_->async_read_some(b, std::move(handler));
          else self->tcp_.async_read_some(b, std::move(handler));
        },
        token, this, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(beast::error_code, std::size_t)>(
        [](auto handler, client_stream* self, const ConstBuffers& b) {
          if (self->tls_) self->tls_->async_write_some(b, std::move(handler));
          else self->tcp_.async_write_some(b, std::move(handler));
        },
        token, this, buffers);
  }

 private:
  beast::tcp_stream& tcp_;
  tls_stream* tls_ = nullptr;
};

}  // namespace laneway::http
