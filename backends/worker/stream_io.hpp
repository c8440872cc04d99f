// The I/O side of a generation on an HTTP thread: an SSE response written chunk by chunk, and a
// waiter that suspends the request's coroutine until the scheduler thread has pushed tokens, the
// client has gone away, or a deadline passes — without ever blocking the I/O thread.
//
// The scheduler's notify callback only posts to the connection's io_context; the posted handler
// sets `signaled` and cancels the wait timer. Both run on the connection's one I/O thread, so
// checking `signaled` and starting the wait cannot race (no lost wake-up).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string_view>

#include "gateway/http/server.hpp"

namespace laneway::worker {

namespace asio = boost::asio;
namespace beast = boost::beast;

class sse_writer {
 public:
  explicit sse_writer(http::exchange& ex) : ex_(ex) {}
  // 200, Content-Type: text/event-stream, Cache-Control: no-cache, X-Request-Id; chunked for
  // HTTP/1.1, raw and ended by closing the connection for HTTP/1.0.
  asio::awaitable<beast::error_code> start();
  asio::awaitable<beast::error_code> write(std::string_view data);  // flushed as one chunk
  asio::awaitable<beast::error_code> finish();                      // the last chunk
  bool started() const { return started_; }

 private:
  http::exchange& ex_;
  bool started_ = false;
  bool chunked_ = true;
};

class engine_waiter : public std::enable_shared_from_this<engine_waiter> {
 public:
  static std::shared_ptr<engine_waiter> create(const asio::any_io_executor& ex);

  // For request_stream::set_notify: callable from any thread.
  std::function<void()> notifier();
  // Starts watching the client socket: EOF or an error marks the client gone and wakes wait().
  void watch_client(beast::tcp_stream& stream);
  void stop_watching();
  // Returns after a notify, the client leaving, or `deadline` (whichever first); at once if a
  // notify arrived since the last wait.
  asio::awaitable<void> wait(std::chrono::steady_clock::time_point deadline);
  bool client_gone() const { return client_gone_; }

  explicit engine_waiter(const asio::any_io_executor& ex) : executor_(ex), timer_(ex) {}

 private:
  void wake();
  asio::any_io_executor executor_;
  asio::steady_timer timer_;
  bool signaled_ = false;
  bool client_gone_ = false;
  beast::tcp_stream* watched_ = nullptr;
};

}  // namespace laneway::worker
