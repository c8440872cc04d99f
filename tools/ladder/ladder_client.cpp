// run_client: the closed loop of one ladder client over Beast (see ladder_client.hpp). Each
// request gets one deadline for the whole exchange; a failed or closed connection is reopened.
#include "tools/ladder/ladder_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

#include "gateway/upstream_client.hpp"

namespace laneway::ladder {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

double seconds(ladder_clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string io_error_class(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return "timeout";
  return "reset";  // closed, reset or broken mid-exchange
}

void read_usage(const std::string& body, request_sample& s) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    s.error_class = "bad_response";
    return;
  }
  if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
    s.prompt_tokens = u->value("prompt_tokens", 0L);
    s.completion_tokens = u->value("completion_tokens", 0L);
  }
}

// One request on an open connection; fills `s`. Returns whether the connection can be reused.
asio::awaitable<bool> exchange(beast::tcp_stream& stream, beast::flat_buffer& buffer, const ladder_target& t,
                               const std::string& body, request_sample& s) {
  auto start = ladder_clock::now();
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, t.url.prefix + "/v1/chat/completions", 11};
  req.set(bhttp::field::host, t.url.host_header());
  req.set(bhttp::field::user_agent, "laneway-ladder");
  req.set(bhttp::field::content_type, "application/json");
  req.set(bhttp::field::accept, t.stream ? "text/event-stream" : "application/json");
  if (!t.key.empty()) req.set(bhttp::field::authorization, "Bearer " + t.key);
  req.keep_alive(true);
  req.body() = body;
  req.prepare_payload();
  stream.expires_after(t.request_timeout);
  auto finish = [&](std::string error_class) {
    s.e2e_s = seconds(ladder_clock::now() - start);
    if (s.error_class.empty()) s.error_class = std::move(error_class);
  };
  if (auto [ec, n] = co_await bhttp::async_write(stream, req, use_tuple); ec) {
    finish(io_error_class(ec));
    co_return false;
  }
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple); ec) {
    finish(ec == bhttp::error::end_of_stream ? "reset" : io_error_class(ec));
    co_return false;
  }
  s.status = static_cast<int>(parser.get().result_int());
  bool ok_status = s.status >= 200 && s.status < 300;
  bool sse = ok_status && t.stream;
  sse_meter meter(start);
  std::string whole;  // non-stream body, or an error body (kept short)
  char chunk[16384];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      finish(io_error_class(ec));
      co_return false;
    }
    std::size_t got = sizeof chunk - parser.get().body().size;
    if (sse) {
      std::string why;
      if (!meter.feed(chunk, got, ladder_clock::now(), &why)) s.error_class = "bad_response";
    } else if (whole.size() < 16 * 1024 * 1024) {
      whole.append(chunk, got);
    }
  }
  stream.expires_never();
  if (!ok_status) {
    finish(s.status >= 500 ? "5xx" : s.status >= 400 ? "4xx" : "bad_response");
  } else if (sse) {
    s.ttft_s = meter.ttft_s();
    s.gaps_s = meter.gaps_s();
    s.chunks = meter.content_chunks();
    s.prompt_tokens = meter.prompt_tokens();
    s.completion_tokens = meter.completion_tokens();
    finish(meter.done() ? "" : "bad_response");
  } else {
    read_usage(whole, s);
    s.ttft_s = seconds(ladder_clock::now() - start);  // no stream: the first token comes with the body
    finish("");
  }
  co_return parser.get().keep_alive();
}

}  // namespace

asio::awaitable<void> run_client(const ladder_target& target, const prompt_mix& mix, int concurrency, int client,
                                 ladder_clock::time_point rung_start, ladder_clock::time_point stop_at,
                                 std::vector<request_sample>& out) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  beast::flat_buffer buffer;
  bool open = false;
  for (int seq = 0; ladder_clock::now() < stop_at; ++seq) {
    const auto& entry = mix.pick(client, seq);
    request_sample s;
    s.concurrency = concurrency;
    s.client = client;
    s.seq = seq;
    s.kind = entry.kind;
    s.short_prompt = entry.short_prompt;
    auto start = ladder_clock::now();
    s.start_s = seconds(start - rung_start);
    if (open && gateway::connection_dead(stream)) {
      beast::error_code ignored;
      stream.socket().close(ignored);
      open = false;
    }
    if (!open) {
      buffer.clear();
      beast::error_code ignored;
      stream.socket().close(ignored);
      auto connected = co_await gateway::connect_node(stream, target.url, target.connect_timeout);
      if (!connected) {
        s.error_class = "connect";
        s.e2e_s = seconds(ladder_clock::now() - start);
        out.push_back(std::move(s));
        // Do not spin on a refused port: wait a little (bounded by the rung's end) before retrying.
        asio::steady_timer pause(co_await asio::this_coro::executor);
        pause.expires_after(std::chrono::milliseconds(100));
        co_await pause.async_wait(use_tuple);
        continue;
      }
      open = true;
    }
    open = co_await exchange(stream, buffer, target, request_body(entry, target.model, target.max_tokens, target.stream), s);
    if (!open) {
      beast::error_code ignored;
      stream.socket().close(ignored);
    }
    out.push_back(std::move(s));
  }
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream.socket().close(ignored);
}

}  // namespace laneway::ladder
