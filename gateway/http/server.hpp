// HTTP/1.1 server scaffolding shared by the gateway and the worker: listeners, one coroutine per
// connection on one I/O thread of an io_pool (no strands needed), keep-alive, request limits and deadlines, a connection cap, and a
// graceful drain. It reads each whole request (header, then body) and hands it to the handler,
// which writes the response itself (so it can stream). Errors the server detects on its own
// (oversized header or body, malformed request, slow client) get an OpenAI-style JSON answer.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <string_view>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "gateway/http/client_stream.hpp"
#include "gateway/http/error.hpp"
#include "gateway/http/io_pool.hpp"

namespace laneway::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using request = beast::http::request<beast::http::string_body>;
using clock = std::chrono::steady_clock;

struct server_limits {
  std::size_t max_connections = 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 16 * 1024 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
};

class server;

// One request read from a client, and the connection to answer it on.
struct exchange {
  client_stream& stream;       // plain or TLS; deadlines and socket() act on the TCP layer
  beast::flat_buffer& buffer;  // the connection's read buffer (may already hold pipelined bytes)
  request& req;
  std::string request_id;      // the client's valid X-Request-Id or a new one
  clock::time_point started;   // when the request's first byte was read
  std::size_t bytes_in = 0;    // header + body bytes read
  bool keep_alive = true;      // the handler clears it to close the connection afterwards
  server& owner;

  bool draining() const;
};

// What the server answered by itself, for the owner's metrics and access log.
struct rejection {
  std::string request_id;
  std::string method;
  std::string target;
  error err;
};

using handler_fn = std::function<asio::awaitable<void>(exchange&)>;
using rejection_fn = std::function<void(const rejection&)>;
// A TLS handshake that failed ("timeout" or "failed"), for the owner's metrics.
using tls_failure_fn = std::function<void(std::string_view reason)>;

class server {
 public:
  server(io_pool& pool, server_limits limits, handler_fn handler, rejection_fn on_rejection = {},
         tls_failure_fn on_tls_failure = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds and starts accepting; returns the bound endpoint (port 0 picks a free port).
  // Throws boost::system::system_error when the address cannot be bound.
  // With `tls`, every connection first completes a TLS handshake within header_timeout.
  tcp::endpoint listen(const std::string& host, std::uint16_t port, std::shared_ptr<asio::ssl::context> tls = nullptr);

  // Stops accepting, closes idle keep-alive connections, lets requests in progress finish
  // (their connections close after the response). Safe from any thread.
  void drain();
  bool draining() const { return draining_.load(); }
  std::size_t busy_requests() const { return busy_.load(); }
  std::size_t open_connections() const { return connections_.load(); }
  // Closes every connection now (after the drain deadline).
  void close_all();

 private:
  struct session_state;
  using tls_ptr = std::shared_ptr<asio::ssl::context>;
  asio::awaitable<void> accept_loop(std::shared_ptr<tcp::acceptor> acceptor, tls_ptr tls);
  asio::awaitable<void> run_session(tcp::socket socket, tls_ptr tls);
  asio::awaitable<void> serve(client_stream& stream);
  asio::awaitable<bool> handshake(tls_stream& stream, std::chrono::milliseconds deadline);
  asio::awaitable<void> refuse(tcp::socket socket, tls_ptr tls);
  asio::awaitable<void> refuse_on(client_stream& stream);
  asio::awaitable<void> finish_input(client_stream& stream);

  io_pool& pool_;
  server_limits limits_;
  handler_fn handler_;
  rejection_fn on_rejection_;
  tls_failure_fn on_tls_failure_;
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors_;
  std::atomic<bool> draining_{false};
  std::atomic<std::size_t> busy_{0};
  std::atomic<std::size_t> connections_{0};
  std::mutex sessions_mutex_;
  std::unordered_set<std::shared_ptr<session_state>> sessions_;
};

}  // namespace laneway::http
