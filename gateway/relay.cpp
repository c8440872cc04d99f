// One upstream attempt and the streaming relay (see relay.hpp).
//
// The relay reads the node's body with a buffer_body parser (each read returns what one socket
// read produced) and writes each piece at once as a chunk (or raw, when the node gave a
// Content-Length). Meanwhile a client_watch waits for the client socket to become readable: EOF
// or an error means the client left, and the upstream socket is closed in the same turn.
#include "gateway/relay.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <prometheus/histogram.h>

#include "gateway/http/headers.hpp"
#include "gateway/http/responses.hpp"
#include "gateway/relay_checks.hpp"

namespace laneway::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using response_parser = bhttp::response_parser<bhttp::buffer_body>;
using client_response = bhttp::response<bhttp::buffer_body>;
using client_serializer = bhttp::response_serializer<bhttp::buffer_body>;

namespace {

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

bool nothing_received(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == bhttp::error::partial_message;
}

http::error upstream_failure(const beast::error_code& ec, std::string_view what, const node& n) {
  if (ec == beast::error::timeout)
    return http::make_error(http::error_kind::upstream_timeout, "node " + n.name() + " timed out " + std::string(what));
  if (nothing_received(ec))
    return http::make_error(http::error_kind::upstream_reset, "node " + n.name() + " closed the connection " + std::string(what));
  return http::make_error(http::error_kind::upstream_bad_response,
                          "node " + n.name() + " " + std::string(what) + ": " + ec.message());
}

struct pump_end {
  std::optional<http::error> err;  // upstream failure mid-body
  bool client_gone = false;
};

// Writes `bytes` to the client as the next piece of the body (a chunk, or raw under a
// Content-Length). False when the client is gone.
asio::awaitable<bool> send_piece(http::exchange& ex, client_response& res, client_serializer& sr, std::string_view bytes,
                                 std::chrono::milliseconds idle) {
  res.body().data = const_cast<char*>(bytes.data());
  res.body().size = bytes.size();
  res.body().more = true;
  ex.stream.expires_after(idle);
  auto [wec, written] = co_await bhttp::async_write(ex.stream, sr, use_tuple);
  if (wec == bhttp::error::need_buffer) wec = {};
  co_return !wec;
}

// An event stream's bytes are held back until a whole event is in, so a node that fails in the
// middle of an event leaves only whole events at the client. Past this much without a blank line
// the stream is not SSE as we know it, and bytes go out as they come.
constexpr std::size_t max_partial_event = 1024 * 1024;

// Upstream body → client, piece by piece, until the message is complete. `held` holds body bytes
// already read from the node and not yet sent; `whole_events` frames the pieces on SSE events.
asio::awaitable<pump_end> pump(http::exchange& ex, upstream_connection& conn, response_parser& p, client_response& res,
                               client_serializer& sr, std::chrono::milliseconds idle, attempt_stats& stats,
                               const node& n, usage_scanner* usage, std::string held, bool whole_events) {
  char piece[16 * 1024];
  for (;;) {
    std::size_t ready = held.size();
    if (whole_events && !p.is_done() && held.size() <= max_partial_event) ready = sse_whole_events_length(held);
    if (ready > 0) {
      std::string_view out(held.data(), ready);
      if (usage) usage->feed(out);
      if (!co_await send_piece(ex, res, sr, out, idle)) co_return pump_end{std::nullopt, true};
      stats.bytes_out += ready;
      ++stats.chunks;
      held.erase(0, ready);
    }
    if (p.is_done()) break;
    p.get().body().data = piece;
    p.get().body().size = sizeof piece;
    conn.stream.expires_after(idle);
    auto [ec, read] = co_await bhttp::async_read_some(conn.stream, conn.buffer, p, use_tuple);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) co_return pump_end{upstream_failure(ec, "while sending the body", n), false};
    held.append(piece, sizeof piece - p.get().body().size);
  }
  res.body().data = nullptr;
  res.body().more = false;
  ex.stream.expires_after(idle);
  auto [wec, written] = co_await bhttp::async_write(ex.stream, sr, use_tuple);
  ex.stream.expires_never();
  if (wec) co_return pump_end{std::nullopt, true};
  co_return pump_end{};
}

// A plain (not event-stream) answer is read whole before anything goes to the client, up to
// this size, so a node that cuts it or sends a broken body gets the client a 502, not half an
// answer. Larger answers are relayed as they come.
constexpr std::size_t max_buffered_answer = 16 * 1024 * 1024;

// Reads the node's body into `body` until the message is complete or `body` passed `limit`.
asio::awaitable<beast::error_code> read_answer(upstream_connection& conn, response_parser& p, std::string& body,
                                               std::chrono::milliseconds idle, std::size_t limit) {
  char piece[16 * 1024];
  while (!p.is_done() && body.size() <= limit) {
    p.get().body().data = piece;
    p.get().body().size = sizeof piece;
    conn.stream.expires_after(idle);
    auto [ec, read] = co_await bhttp::async_read_some(conn.stream, conn.buffer, p, use_tuple);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) co_return ec;
    body.append(piece, sizeof piece - p.get().body().size);
  }
  co_return beast::error_code{};
}

// Why a whole answer from the node must not reach the client, if it must not: a 2xx that says it
// is JSON and does not parse.
std::optional<http::error> check_answer(const response_parser& p, std::string_view body, const node& n) {
  auto type = p.get()[bhttp::field::content_type];
  bool json = type.size() >= 16 && beast::iequals(type.substr(0, 16), "application/json");
  if (!json || p.get().result_int() < 200 || p.get().result_int() > 299) return std::nullopt;
  auto at = json_error_offset(body);
  if (!at) return std::nullopt;
  return http::make_error(http::error_kind::upstream_bad_response,
                          "node " + n.name() + " answered " + std::to_string(p.get().result_int()) +
                              " with a body that is not valid JSON (byte " + std::to_string(*at) + " of " +
                              std::to_string(body.size()) + ")");
}

// Watches the client while a node works on its request: one plain async_wait on the client
// socket (no coroutine, no race of coroutines). If the client closes or resets its connection
// before the node's whole answer was read, the upstream socket is closed at once, so the node
// sees its client vanish and stops generating, and the relay's pending operation fails. A close
// after the whole answer was read is a one-shot client leaving, not a disconnect. Bytes a client
// pipelines meanwhile are kept in its buffer for the session.
class client_watch {
 public:
  client_watch(http::exchange& ex, upstream_connection& conn, const response_parser& p)
      : state_(std::make_shared<state>(state{&ex, &conn, &p})) {
    arm(state_);
  }
  ~client_watch() { stop(); }
  client_watch(const client_watch&) = delete;
  client_watch& operator=(const client_watch&) = delete;

  // From here on the watch touches nothing. Call before the upstream connection changes hands
  // and while no other operation is pending on the client socket.
  void stop() {
    if (state_->done) return;
    state_->done = true;
    beast::error_code ignored;
    state_->ex->stream.socket().cancel(ignored);
  }
  bool client_gone() const { return state_->gone; }

 private:
  struct state {
    http::exchange* ex;
    upstream_connection* conn;
    const response_parser* p;
    bool done = false;
    bool gone = false;
  };

  static void arm(const std::shared_ptr<state>& s) {
    // Readability, not a read: no speculative read (an EAGAIN syscall) per request.
    s->ex->stream.socket().async_wait(asio::ip::tcp::socket::wait_read,
                                      [s](const beast::error_code& ec) { on_ready(s, ec); });
  }

  static void on_ready(const std::shared_ptr<state>& s, beast::error_code ec) {
    if (s->done || ec == asio::error::operation_aborted) return;
    auto& socket = s->ex->stream.socket();
    std::size_t pending = ec ? 0 : socket.available(ec);
    if (!ec && pending > 0) {  // a pipelined request
      // Over TLS the bytes are records we cannot read beside the session (a close_notify looks
      // the same as a pipelined request): stop watching; a gone client fails the next write.
      if (s->ex->stream.is_tls()) return;
      auto& buffer = s->ex->buffer;
      if (buffer.size() >= 64 * 1024) return;  // enough pipelined input: stop watching
      std::size_t n = socket.read_some(buffer.prepare(std::min<std::size_t>(pending, 64 * 1024)), ec);
      if (!ec) {
        buffer.commit(n);
        arm(s);
        return;
      }
    }
    // Readable with nothing to read (or an error): the client closed or reset its connection.
    s->done = true;
    s->ex->keep_alive = false;
    if (s->p->is_done()) return;
    s->gone = true;
    beast::error_code ignored;
    s->conn->stream.socket().close(ignored);
  }

  std::shared_ptr<state> state_;
};

// Sends the request and reads the node's response header, within `timeout`.
asio::awaitable<beast::error_code> send_and_read_head(upstream_connection& conn, upstream_request& up,
                                                     response_parser& p, std::chrono::milliseconds timeout) {
  conn.stream.expires_after(timeout);
  auto [wec, written] = co_await bhttp::async_write(conn.stream, up, use_tuple);
  if (wec) co_return wec;
  auto [rec, read] = co_await bhttp::async_read_header(conn.stream, conn.buffer, p, use_tuple);
  co_return rec;
}

// The client's response header, copied from the node's. A body of unknown length goes out
// chunked, except to HTTP/1.0 clients, which get it raw and delimited by closing the connection.
void prepare_client_header(const response_parser& p, client_response& res, http::exchange& ex) {
  const auto& up = p.get();
  res.result(up.result_int());
  res.version(11);
  http::copy_end_to_end_fields(up.base(), res.base());
  res.set("X-Request-Id", ex.request_id);
  if (auto len = p.content_length()) res.content_length(*len);
  else if (ex.req.version() >= 11) res.chunked(true);
  else ex.keep_alive = false;
  res.keep_alive(ex.keep_alive && !ex.draining());
  res.body().data = nullptr;
  res.body().more = true;
}

bool is_event_stream(const response_parser& p) {
  auto type = p.get()[bhttp::field::content_type];
  return type.size() >= 17 && beast::iequals(type.substr(0, 17), "text/event-stream");
}

// The node failed after its head: tell the client as well as the response allows. Nothing sent
// yet: an error response. An event stream: an SSE error event and a clean end of the chunked
// body. Anything else: the connection is cut.
asio::awaitable<void> end_cut_response(http::exchange& ex, const response_parser& p, client_response& res,
                                       client_serializer& sr, const http::error& err) {
  if (!sr.is_header_done()) {
    co_await http::write_error(ex, err);
    ex.keep_alive = false;
    co_return;
  }
  if (res.has_content_length() || !is_event_stream(p)) {
    ex.keep_alive = false;
    co_return;
  }
  std::string event = http::sse_error_event(err);
  res.body().data = event.data();
  res.body().size = event.size();
  res.body().more = true;
  ex.stream.expires_after(std::chrono::seconds(5));
  auto [e1, n1] = co_await bhttp::async_write(ex.stream, sr, use_tuple);
  res.body().data = nullptr;
  res.body().more = false;
  auto [e2, n2] = co_await bhttp::async_write(ex.stream, sr, use_tuple);
  ex.stream.expires_never();
  if ((e1 && e1 != bhttp::error::need_buffer) || e2) ex.keep_alive = false;
}

}  // namespace

asio::awaitable<attempt_result> forward_once(http::exchange& ex, node& target, upstream_request& up,
                                             const attempt_context& ctx, attempt_stats& stats) {
  auto& pool = target.pool();
  bool allow_reuse = true;
  for (int fresh_retry = 0;; ++fresh_retry) {
    auto got = co_await pool.acquire(allow_reuse);
    if (!got) {
      ctx.metrics.upstream_error(target.name(), got.err().code());
      target.on_traffic(true);
      co_return attempt_result{ctx.may_retry ? attempt_end::retry : attempt_end::failed, got.err(), false};
    }
    connection_ptr conn = std::move(got->conn);
    stats.reused = got->reused;
    stats.tls_resumed = conn->tls_resumed;
    stats.connect_ms = got->connect_seconds * 1000.0;
    up.set(bhttp::field::host, target.config().url.host_header());

    auto sent_at = std::chrono::steady_clock::now();
    response_parser p;
    p.body_limit(boost::none);
    p.header_limit(64 * 1024);
    client_watch watch(ex, *conn, p);
    beast::error_code ec = co_await send_and_read_head(*conn, up, p, ctx.config.response_timeout);
    if (watch.client_gone()) {  // the client left while the node was still thinking
      pool.discard(std::move(conn), "client_disconnect");
      co_return attempt_result{attempt_end::relayed, std::nullopt, true};
    }
    if (ec) {
      watch.stop();
      // A pooled connection the node closed while idle: try once more on a fresh one.
      if (stats.reused && fresh_retry == 0 && nothing_received(ec)) {
        pool.discard(std::move(conn), "stale");
        ctx.metrics.retry("stale_connection");
        allow_reuse = false;
        continue;
      }
      auto err = upstream_failure(ec, "before answering", target);
      pool.discard(std::move(conn), "error");
      ctx.metrics.upstream_error(target.name(), err.code());
      target.on_traffic(true);
      bool retry = ctx.may_retry && err.kind != http::error_kind::upstream_timeout;
      co_return attempt_result{retry ? attempt_end::retry : attempt_end::failed, err, false};
    }
    stats.ttfb_ms = ms_since(sent_at);
    if (ctx.on_head) ctx.on_head();
    target.metrics().ttfb_seconds->Observe(stats.ttfb_ms / 1000.0);
    stats.status = p.get().result_int();
    // The node's outcome for its circuit: a 5xx fails now. A stream's head counts as a success at
    // once (a half-open trial must not wait for a long stream to end) and a failure later counts
    // too; a plain answer counts once its body is in, so a 200 with a broken body is a failure.
    enum class counted { nothing, success, failure } outcome = counted::nothing;
    auto count_outcome = [&](bool failure) {
      if (outcome == counted::failure || (outcome == counted::success && !failure)) return;
      target.on_traffic(failure);
      outcome = failure ? counted::failure : counted::success;
    };
    const bool events = is_event_stream(p);
    if (stats.status >= 500) count_outcome(true);
    else if (events) count_outcome(false);
    if (stats.status >= 500 && ctx.may_retry) {
      watch.stop();
      pool.discard(std::move(conn), "retry_5xx");
      ctx.metrics.upstream_error(target.name(), "status_5xx");
      auto err = http::make_error(http::error_kind::upstream_bad_response,
                                  "node " + target.name() + " answered " + std::to_string(stats.status));
      co_return attempt_result{attempt_end::retry, err, false};
    }
    // The node failed while nothing had reached the client yet: the client gets an error answer.
    auto fail_unsent = [&](http::error err) {
      watch.stop();
      pool.discard(std::move(conn), "error");
      ctx.metrics.upstream_error(target.name(), err.code());
      count_outcome(true);
      return attempt_result{attempt_end::failed, std::move(err), false};
    };
    auto client_left = [&] {
      watch.stop();
      ex.keep_alive = false;
      pool.discard(std::move(conn), "client_disconnect");
      count_outcome(false);  // the node was answering
      return attempt_result{attempt_end::relayed, std::nullopt, true};
    };

    // From here on the client gets this node's answer.
    client_response res;
    prepare_client_header(p, res, ex);
    client_serializer sr{res};
    std::string held;  // body bytes read from the node, not yet sent
    if (!events && p.content_length().value_or(0) <= max_buffered_answer) {
      auto rec = co_await read_answer(*conn, p, held, ctx.config.stream_idle_timeout, max_buffered_answer);
      if (watch.client_gone()) co_return client_left();
      if (rec) co_return fail_unsent(upstream_failure(rec, "while sending the body", target));
      if (p.is_done()) {
        if (auto bad = check_answer(p, held, target)) co_return fail_unsent(*bad);
        watch.stop();
        if (ctx.usage) ctx.usage->feed(held);
        res.chunked(false);
        res.content_length(held.size());
        res.body().data = held.data();
        res.body().size = held.size();
        res.body().more = false;
        ex.stream.expires_after(ctx.config.stream_idle_timeout);
        auto [wec, written] = co_await bhttp::async_write(ex.stream, sr, use_tuple);
        ex.stream.expires_never();
        if (wec) co_return client_left();
        stats.bytes_out = held.size();
        stats.chunks = 1;
        count_outcome(false);
        pool.release(std::move(conn), p.keep_alive());
        if (!res.keep_alive()) ex.keep_alive = false;
        co_return attempt_result{attempt_end::relayed, std::nullopt, false};
      }
      // Larger than we buffer: what was read goes out first, the rest as it comes.
    }
    // An event stream's head goes out at once (clients see the 200 before the first token);
    // any other head leaves with the first piece of body, in one write.
    if (events) {
      ex.stream.expires_after(ctx.config.stream_idle_timeout);
      auto [hec, hn] = co_await bhttp::async_write_header(ex.stream, sr, use_tuple);
      if (hec) co_return client_left();
    }
    attempt_result result{attempt_end::relayed, std::nullopt, false};
    auto end = co_await pump(ex, *conn, p, res, sr, ctx.config.stream_idle_timeout, stats, target, ctx.usage,
                             std::move(held), events);
    watch.stop();
    result.client_gone = end.client_gone || watch.client_gone();
    if (!result.client_gone) result.err = end.err;
    ex.stream.expires_never();
    if (result.client_gone) co_return client_left();
    count_outcome(result.err.has_value());
    if (result.err) {
      ctx.metrics.upstream_error(target.name(), result.err->code());
      pool.discard(std::move(conn), "error");
      co_await end_cut_response(ex, p, res, sr, *result.err);
      co_return result;
    }
    pool.release(std::move(conn), p.keep_alive());
    if (!res.keep_alive()) ex.keep_alive = false;
    co_return result;
  }
}

}  // namespace laneway::gateway
