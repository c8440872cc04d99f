// Closed-loop and SSE clients (see load_client.hpp). Requests are pre-serialized once; responses
// are parsed with Beast. Every operation has a 10 s deadline; a failed connection is reopened.
#include "tests/bench/gateway/load_client.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

namespace laneway::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto op_deadline = std::chrono::seconds(10);

namespace {

std::string chat_request(const http_target& target, const std::string& body) {
  std::string out = "POST /v1/chat/completions HTTP/1.1\r\nHost: " + target.host + ":" + std::to_string(target.port) +
                    "\r\nContent-Type: application/json\r\nAccept: */*\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n";
  return out + body;
}

std::string plain_body(const std::string& model) {
  return R"({"model":")" + model +
         R"(","messages":[{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":32})";
}

double us_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

// Errors, counted across client coroutines (which may run on several threads).
struct error_sink {
  std::mutex mutex;
  std::size_t count = 0;
  std::string first;
  void add(std::string what) {
    std::lock_guard lock(mutex);
    if (count++ == 0) first = std::move(what);
  }
};

asio::awaitable<beast::error_code> connect(beast::tcp_stream& stream, const http_target& target) {
  beast::error_code ec;
  auto address = asio::ip::make_address(target.host, ec);
  if (ec) co_return ec;
  stream.expires_after(op_deadline);
  auto [cec] = co_await stream.async_connect(tcp::endpoint(address, target.port), use_tuple);
  if (!cec) stream.socket().set_option(tcp::no_delay(true), ec);
  co_return cec;
}

struct loop_state {
  const http_target& target;
  const std::string& request;
  int warmup = 0;
  int total = 0;
  std::atomic<int> next{0};
  std::atomic<std::int64_t> start_ns{0};  // t0 of the first measured request
  std::atomic<std::int64_t> end_ns{0};    // latest end of a measured request
  error_sink errors;
};

std::int64_t ns_of(steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

asio::awaitable<void> loop_client(loop_state& st, std::vector<double>& samples) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  if (auto ec = co_await connect(stream, st.target)) {
    st.errors.add("connect: " + ec.message());
    co_return;
  }
  beast::flat_buffer buffer;
  for (;;) {
    int index = st.next.fetch_add(1);
    if (index >= st.total) break;
    auto t0 = steady::now();
    if (index == st.warmup) st.start_ns = ns_of(t0);
    stream.expires_after(op_deadline);
    auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(st.request), use_tuple);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(1 << 20);
    beast::error_code rec = wec;
    if (!wec) std::tie(rec, std::ignore) = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
    auto t1 = steady::now();
    if (rec) {
      st.errors.add("request " + std::to_string(index) + ": " + rec.message());
      stream.close();
      buffer.clear();
      if (auto ec = co_await connect(stream, st.target)) {
        st.errors.add("reconnect: " + ec.message());
        co_return;
      }
      continue;
    }
    const auto& res = parser.get();
    if (res.result_int() != 200) {
      st.errors.add("request " + std::to_string(index) + ": status " + std::to_string(res.result_int()) + ": " +
                    res.body().substr(0, 200));
    } else if (index >= st.warmup) {
      samples.push_back(us_between(t0, t1));
      auto end = ns_of(t1);
      auto seen = st.end_ns.load();
      while (seen < end && !st.end_ns.compare_exchange_weak(seen, end)) {
      }
    }
    if (!res.keep_alive()) {
      stream.close();
      buffer.clear();
      if (auto ec = co_await connect(stream, st.target)) {
        st.errors.add("reconnect: " + ec.message());
        co_return;
      }
    }
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace

closed_loop_result run_closed_loop(const http_target& target, const closed_loop_options& options) {
  const std::string request = chat_request(target, plain_body(options.model));
  loop_state st{target, request, options.warmup, options.warmup + options.requests};
  const int threads = std::clamp(options.threads, 1, std::max(1, options.concurrency));
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  for (int t = 0; t < threads; ++t) contexts.push_back(std::make_unique<asio::io_context>(1));
  std::vector<std::vector<double>> samples(static_cast<std::size_t>(options.concurrency));
  for (int c = 0; c < options.concurrency; ++c) {
    samples[static_cast<std::size_t>(c)].reserve(static_cast<std::size_t>(options.requests / options.concurrency + 16));
    asio::co_spawn(*contexts[static_cast<std::size_t>(c % threads)], loop_client(st, samples[static_cast<std::size_t>(c)]),
                   asio::detached);
  }
  std::vector<std::thread> runners;
  for (int t = 1; t < threads; ++t) runners.emplace_back([&ctx = *contexts[static_cast<std::size_t>(t)]] { ctx.run(); });
  contexts[0]->run();
  for (auto& r : runners) r.join();

  closed_loop_result out;
  for (auto& s : samples) out.latency_us.insert(out.latency_us.end(), s.begin(), s.end());
  if (st.start_ns > 0 && st.end_ns > st.start_ns) out.seconds = static_cast<double>(st.end_ns - st.start_ns) / 1e9;
  out.errors = st.errors.count;
  out.first_error = st.errors.first;
  return out;
}

namespace {

// One stream: write the request, read the header, then read body pieces as they come and
// timestamp every complete event ("\n\n"-terminated) at the read that completed it.
asio::awaitable<void> one_stream(beast::tcp_stream& stream, beast::flat_buffer& buffer, const std::string& request,
                                 bool measured, sse_result& out, error_sink& errors) {
  auto t0 = steady::now();
  stream.expires_after(op_deadline);
  auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(request), use_tuple);
  if (wec) {
    errors.add("sse write: " + wec.message());
    co_return;
  }
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);
  auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
  if (hec) {
    errors.add("sse header: " + hec.message());
    co_return;
  }
  if (parser.get().result_int() != 200) errors.add("sse status " + std::to_string(parser.get().result_int()));
  std::string pending;
  std::vector<steady::time_point> event_times;
  char piece[16 * 1024];
  while (!parser.is_done()) {
    parser.get().body().data = piece;
    parser.get().body().size = sizeof piece;
    stream.expires_after(op_deadline);
    auto [ec, n] = co_await bhttp::async_read_some(stream, buffer, parser, use_tuple);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      errors.add("sse body: " + ec.message());
      co_return;
    }
    auto now = steady::now();
    pending.append(piece, sizeof piece - parser.get().body().size);
    for (auto end = pending.find("\n\n"); end != std::string::npos; end = pending.find("\n\n")) {
      event_times.push_back(now);
      pending.erase(0, end + 2);
    }
  }
  if (!parser.keep_alive()) errors.add("sse: the connection was not kept alive");
  if (!measured) co_return;
  if (event_times.empty()) {
    errors.add("sse: no event received");
    co_return;
  }
  out.events += event_times.size();
  out.first_event_us.push_back(us_between(t0, event_times.front()));
  for (std::size_t i = 1; i < event_times.size(); ++i) out.gap_us.push_back(us_between(event_times[i - 1], event_times[i]));
}

asio::awaitable<void> sse_client(const http_target& target, const sse_options& options, sse_result& out,
                                 error_sink& errors) {
  const std::string body = R"({"model":"bench","stream":true,"bench_events":)" + std::to_string(options.events) +
                           R"(,"bench_gap_ms":)" + std::to_string(options.gap_ms) +
                           R"(,"messages":[{"role":"user","content":"Count to ten."}]})";
  const std::string request = chat_request(target, body);
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  if (auto ec = co_await connect(stream, target)) {
    errors.add("sse connect: " + ec.message());
    co_return;
  }
  beast::flat_buffer buffer;
  for (int i = 0; i < options.warmup + options.requests; ++i) {
    std::size_t before = errors.count;
    co_await one_stream(stream, buffer, request, i >= options.warmup, out, errors);
    if (errors.count != before) co_return;  // a broken stream leaves the connection out of step
  }
}

}  // namespace

sse_result run_sse(const http_target& target, const sse_options& options) {
  asio::io_context ioc(1);
  sse_result out;
  error_sink errors;
  asio::co_spawn(ioc, sse_client(target, options, out, errors), asio::detached);
  ioc.run();
  out.errors = errors.count;
  out.first_error = errors.first;
  return out;
}

}  // namespace laneway::bench
