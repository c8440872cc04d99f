// SSE writing and the engine waiter (see stream_io.hpp).
#include "backends/worker/stream_io.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <sys/socket.h>

namespace laneway::worker {

namespace bhttp = beast::http;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

asio::awaitable<beast::error_code> sse_writer::start() {
  bhttp::response<bhttp::empty_body> res{bhttp::status::ok, 11};
  res.set(bhttp::field::content_type, "text/event-stream");
  res.set(bhttp::field::cache_control, "no-cache");
  res.set("X-Request-Id", ex_.request_id);
  chunked_ = ex_.req.version() >= 11;
  if (ex_.draining()) ex_.keep_alive = false;
  if (chunked_) {
    res.chunked(true);
    res.keep_alive(ex_.keep_alive);
  } else {
    ex_.keep_alive = false;  // HTTP/1.0: the body ends when the connection closes
    res.keep_alive(false);
  }
  bhttp::response_serializer<bhttp::empty_body> sr{res};
  auto [ec, n] = co_await bhttp::async_write_header(ex_.stream, sr, use_tuple);
  started_ = !ec;
  if (ec) ex_.keep_alive = false;
  co_return ec;
}

asio::awaitable<beast::error_code> sse_writer::write(std::string_view data) {
  if (data.empty()) co_return beast::error_code{};
  beast::error_code ec;
  if (chunked_) {
    auto [e, n] = co_await asio::async_write(ex_.stream, bhttp::make_chunk(asio::buffer(data.data(), data.size())), use_tuple);
    ec = e;
  } else {
    auto [e, n] = co_await asio::async_write(ex_.stream, asio::buffer(data.data(), data.size()), use_tuple);
    ec = e;
  }
  if (ec) ex_.keep_alive = false;
  co_return ec;
}

asio::awaitable<beast::error_code> sse_writer::finish() {
  if (!chunked_) co_return beast::error_code{};
  auto [ec, n] = co_await asio::async_write(ex_.stream, bhttp::make_chunk_last(), use_tuple);
  if (ec) ex_.keep_alive = false;
  co_return ec;
}

std::shared_ptr<engine_waiter> engine_waiter::create(const asio::any_io_executor& ex) {
  return std::make_shared<engine_waiter>(ex);
}

std::function<void()> engine_waiter::notifier() {
  std::weak_ptr<engine_waiter> weak = weak_from_this();
  asio::any_io_executor ex = executor_;
  return [weak, ex] {
    asio::post(ex, [weak] {
      if (auto self = weak.lock()) self->wake();
    });
  };
}

void engine_waiter::wake() {
  signaled_ = true;
  timer_.cancel();
}

void engine_waiter::watch_client(beast::tcp_stream& stream) {
  watched_ = &stream;
  std::weak_ptr<engine_waiter> weak = weak_from_this();
  stream.socket().async_wait(asio::ip::tcp::socket::wait_read, [weak](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (!self || ec == asio::error::operation_aborted || !self->watched_) return;
    if (!ec) {
      char byte;
      ssize_t n = ::recv(self->watched_->socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n > 0) return;  // a pipelined request, not a hang-up: stop watching
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return self->watch_client(*self->watched_);
    }
    self->client_gone_ = true;
    self->wake();
  });
}

void engine_waiter::stop_watching() {
  if (!watched_) return;
  boost::system::error_code ignored;
  watched_->socket().cancel(ignored);
  watched_ = nullptr;
}

asio::awaitable<void> engine_waiter::wait(std::chrono::steady_clock::time_point deadline) {
  if (signaled_ || client_gone_) {
    signaled_ = false;
    co_return;
  }
  timer_.expires_at(deadline);
  co_await timer_.async_wait(use_tuple);
  signaled_ = false;
}

}  // namespace laneway::worker
