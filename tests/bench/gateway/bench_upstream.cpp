// The bench node (see bench_upstream.hpp). Responses are pre-serialized strings written with one
// async_write each, so the node costs as little as possible next to the gateway it measures.
// No read deadlines: every connection belongs to this process's own clients or gateway.
#include "tests/bench/gateway/bench_upstream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <charconv>
#include <string>
#include <string_view>

namespace laneway::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

std::string make_response(int status, std::string_view reason, std::string_view content_type, std::string_view body,
                          bool keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  out += "Content-Type: " + std::string(content_type) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  out += body;
  return out;
}

constexpr std::string_view completion_json =
    R"({"id":"chatcmpl-bench-0001","object":"chat.completion","created":1763856000,"model":"bench",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hello! This is a fixed answer from )"
    R"(the bench node, about three hundred bytes long."},"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":12,"completion_tokens":18,"total_tokens":30}})";
constexpr std::string_view models_json = R"({"object":"list","data":[{"id":"bench","object":"model"}]})";
constexpr std::string_view sse_event =
    "data: {\"id\":\"chatcmpl-bench-0001\",\"object\":\"chat.completion.chunk\",\"model\":\"bench\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok\"}}]}\n\n";
constexpr std::string_view sse_done = "data: [DONE]\n\n";
constexpr std::string_view sse_head =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";

std::string chunk(std::string_view data) {
  char size[16];
  auto end = std::to_chars(size, size + sizeof size, data.size(), 16).ptr;
  std::string out(size, end);
  out += "\r\n";
  out += data;
  out += "\r\n";
  return out;
}

// `"key":N` in a JSON body, found by text search (the bench's own clients write it that way).
int int_field(std::string_view body, std::string_view key, int fallback) {
  std::string pattern = "\"" + std::string(key) + "\":";
  auto at = body.find(pattern);
  if (at == std::string_view::npos) return fallback;
  int value = fallback;
  auto start = body.data() + at + pattern.size();
  std::from_chars(start, body.data() + body.size(), value);
  return value;
}

asio::awaitable<bool> write_sse(tcp::socket& socket, int events, int gap_ms) {
  static const std::string event_chunk = chunk(sse_event);
  static const std::string done_chunk = chunk(sse_done) + "0\r\n\r\n";
  auto [hec, hn] = co_await asio::async_write(socket, asio::buffer(sse_head), use_tuple);
  if (hec) co_return false;
  asio::steady_timer gap(socket.get_executor());
  for (int i = 0; i < events; ++i) {
    if (i > 0 && gap_ms > 0) {
      gap.expires_after(std::chrono::milliseconds(gap_ms));
      co_await gap.async_wait(use_tuple);
    }
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(event_chunk), use_tuple);
    if (ec) co_return false;
  }
  auto [dec, dn] = co_await asio::async_write(socket, asio::buffer(done_chunk), use_tuple);
  co_return !dec;
}

asio::awaitable<void> serve(tcp::socket socket) {
  static const std::string completion = make_response(200, "OK", "application/json", completion_json, true);
  static const std::string models = make_response(200, "OK", "application/json", models_json, true);
  static const std::string health = make_response(200, "OK", "application/json", R"({"status":"ok"})", true);
  static const std::string not_found =
      make_response(404, "Not Found", "application/json", R"({"error":{"message":"no such route"}})", true);
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(1 << 20);
    auto [ec, n] = co_await bhttp::async_read(socket, buffer, parser, use_tuple);
    if (ec) break;
    const auto& req = parser.get();
    const bool keep_alive = req.keep_alive();
    const std::string_view target = req.target();
    const std::string* answer = &not_found;
    if (req.method() == bhttp::verb::post && target == "/v1/chat/completions") {
      const std::string_view body = req.body();
      if (body.find("\"stream\":true") != std::string_view::npos) {
        if (!co_await write_sse(socket, int_field(body, "bench_events", 8), int_field(body, "bench_gap_ms", 0))) break;
        if (!keep_alive) break;
        continue;
      }
      answer = &completion;
    } else if (req.method() == bhttp::verb::get && target == "/health") {
      answer = &health;
    } else if (req.method() == bhttp::verb::get && target == "/v1/models") {
      answer = &models;
    }
    auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(*answer), use_tuple);
    if (wec || !keep_alive) break;
  }
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec) co_return;  // closed at shutdown
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
  }
}

}  // namespace

bench_upstream::bench_upstream() : acceptor_(ioc_) {
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(ioc_, accept_loop(acceptor_), asio::detached);
  thread_ = std::thread([this] { ioc_.run(); });
}

bench_upstream::~bench_upstream() {
  ioc_.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace laneway::bench
