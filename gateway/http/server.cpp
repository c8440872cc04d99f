// HTTP/1.1 server scaffolding (see server.hpp). Per connection: wait for the first byte of a
// request (idle timeout), read the header (header timeout, size limit), answer
// `Expect: 100-continue`, read the body (body timeout, size limit), then hand over to the handler.
// A TLS listener first completes the handshake (within the header timeout), then runs the same
// session code over the TLS stream (client_stream), and sends close_notify at the end.
#include "gateway/http/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <nlohmann/json.hpp>

#include "gateway/http/log.hpp"
#include "gateway/http/request_checks.hpp"
#include "gateway/http/request_id.hpp"
#include "gateway/http/responses.hpp"

namespace laneway::http {

namespace bhttp = beast::http;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct server::session_state {
  asio::any_io_executor executor;       // the connection's I/O thread
  beast::tcp_stream* stream = nullptr;  // null once the session ended; touched only on that thread
  bool busy = false;
};

bool exchange::draining() const { return owner.draining(); }

server::server(io_pool& pool, server_limits limits, handler_fn handler, rejection_fn on_rejection,
               tls_failure_fn on_tls_failure)
    : pool_(pool),
      limits_(limits),
      handler_(std::move(handler)),
      on_rejection_(std::move(on_rejection)),
      on_tls_failure_(std::move(on_tls_failure)) {}

server::~server() = default;

tcp::endpoint server::listen(const std::string& host, std::uint16_t port, tls_ptr tls) {
  auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host);
  tcp::endpoint endpoint(address, port);
  auto acceptor = std::make_shared<tcp::acceptor>(pool_.context(0));
  acceptor->open(endpoint.protocol());
  acceptor->set_option(asio::socket_base::reuse_address(true));
  acceptor->bind(endpoint);
  acceptor->listen(asio::socket_base::max_listen_connections);
  acceptors_.push_back(acceptor);
  asio::co_spawn(acceptor->get_executor(), accept_loop(acceptor, std::move(tls)), asio::detached);
  return acceptor->local_endpoint();
}

asio::awaitable<void> server::accept_loop(std::shared_ptr<tcp::acceptor> acceptor, tls_ptr tls) {
  while (!draining_) {
    auto [ec, socket] = co_await acceptor->async_accept(pool_.context(pool_.next_index()), use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      // EMFILE and friends: keep serving the connections we have; retry shortly.
      log_event(log_level::warn, "accept failed", {{"error", ec.message()}});
      asio::steady_timer pause(acceptor->get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    auto executor = socket.get_executor();
    if (connections_.load() >= limits_.max_connections) {
      asio::co_spawn(executor, refuse(std::move(socket), tls), asio::detached);
      continue;
    }
    ++connections_;
    asio::co_spawn(executor, run_session(std::move(socket), tls), asio::detached);
  }
}

asio::awaitable<void> server::refuse(tcp::socket socket, tls_ptr tls) {
  if (!tls) {
    beast::tcp_stream plain(std::move(socket));
    client_stream stream(plain);
    co_await refuse_on(stream);
    co_return;
  }
  tls_stream secure(std::move(socket), *tls);
  if (!co_await handshake(secure, std::chrono::milliseconds(2'000))) co_return;
  client_stream stream(secure);
  co_await refuse_on(stream);
}

// Answers 503 too_many_connections and closes.
asio::awaitable<void> server::refuse_on(client_stream& stream) {
  auto err = make_error(error_kind::too_many_connections, "the server has reached its connection limit; retry shortly");
  std::string id = new_request_id();
  if (on_rejection_) on_rejection_({id, "", "", err});
  stream.expires_after(std::chrono::seconds(2));
  co_await write_error_to(stream, err, id, /*keep_alive=*/false);
  co_await finish_input(stream);
}

// After a final answer on a connection the server closes: sends FIN, then reads and discards
// what the client still sends (at most 64 KiB, for at most a second), so that close() does not
// turn into a reset that eats the answer before the client read it.
asio::awaitable<void> server::finish_input(client_stream& stream) {
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(std::chrono::seconds(1));
  char sink[1024];
  for (int i = 0; i < 64; ++i) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), use_tuple);
    if (ec) break;
  }
}

// The server side of a TLS handshake within `deadline` (the TCP layer's timeout closes the
// socket when it passes). A failure is counted and logged at debug; the caller just closes.
asio::awaitable<bool> server::handshake(tls_stream& stream, std::chrono::milliseconds deadline) {
  stream.next_layer().expires_after(deadline);
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
  stream.next_layer().expires_never();
  if (!ec) co_return true;
  const bool timed_out = ec == beast::error::timeout;
  if (on_tls_failure_) on_tls_failure_(timed_out ? "timeout" : "failed");
  beast::error_code peer_ec;
  auto peer = stream.next_layer().socket().remote_endpoint(peer_ec);
  log_event(log_level::debug, "TLS handshake failed",
            {{"error", ec.message()}, {"peer", peer_ec ? std::string() : peer.address().to_string()}});
  co_return false;
}

namespace {

// A deadline for reading a request. Unlike tcp_stream's own timeout, which closes the socket,
// expiry only cancels the pending read, so the session can still answer 408.
class read_deadline {
 public:
  read_deadline(client_stream& stream, std::chrono::milliseconds after)
      : state_(std::make_shared<state>()), timer_(stream.get_executor()) {
    stream.expires_never();
    timer_.expires_after(after);
    timer_.async_wait([s = state_, &stream](const beast::error_code& ec) {
      if (ec || s->done) return;
      s->expired = true;
      beast::error_code ignored;
      stream.socket().cancel(ignored);
    });
  }
  ~read_deadline() { finish(); }
  // Call when the read completed; maps the cancellation it caused to beast::error::timeout.
  beast::error_code finish(beast::error_code ec = {}) {
    state_->done = true;
    timer_.cancel();
    if (state_->expired && (ec == asio::error::operation_aborted || !ec)) return beast::error::timeout;
    return ec;
  }

 private:
  struct state {
    bool done = false;
    bool expired = false;
  };
  std::shared_ptr<state> state_;
  asio::steady_timer timer_;
};

// Reads until `buffer` holds a whole request header (through its empty line) and sets `end`
// to its length. The raw bytes are kept for check_header_bytes: Beast's parser would fold
// obs-fold lines silently. More than `limit` bytes without the end is header_limit (431).
asio::awaitable<beast::error_code> read_header_bytes(client_stream& stream, beast::flat_buffer& buffer,
                                                     std::size_t limit, std::size_t& end) {
  std::size_t scanned = 0;
  for (;;) {
    std::string_view have(static_cast<const char*>(buffer.data().data()), buffer.size());
    const std::size_t from = scanned > 3 ? scanned - 3 : 0;  // "\r\n\r\n" may straddle two reads
    if (std::size_t found = header_end(have.substr(from))) {
      end = from + found;
      co_return end > limit ? beast::error_code(bhttp::error::header_limit) : beast::error_code{};
    }
    if (have.size() >= limit) co_return bhttp::error::header_limit;
    scanned = have.size();
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(std::min<std::size_t>(4096, limit - have.size() + 4)), use_tuple);
    if (ec) co_return ec;
    buffer.commit(n);
  }
}

}  // namespace

asio::awaitable<void> server::run_session(tcp::socket socket, tls_ptr tls) {
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  if (!tls) {
    beast::tcp_stream plain(std::move(socket));
    client_stream stream(plain);
    co_await serve(stream);
  } else {
    tls_stream secure(std::move(socket), *tls);
    if (co_await handshake(secure, limits_.header_timeout)) {
      client_stream stream(secure);
      co_await serve(stream);
      // close_notify, bounded: a peer that never answers it is closed after a second.
      secure.next_layer().expires_after(std::chrono::seconds(1));
      if (secure.next_layer().socket().is_open()) co_await secure.async_shutdown(use_tuple);
    }
    secure.next_layer().socket().close(ignored);
  }
  --connections_;
}

// The request loop of one connection, the same over plain TCP and TLS.
asio::awaitable<void> server::serve(client_stream& stream) {
  beast::error_code ignored;
  auto state = std::make_shared<session_state>();
  state->executor = co_await asio::this_coro::executor;
  state->stream = &stream.tcp();
  {
    std::lock_guard lock(sessions_mutex_);
    sessions_.insert(state);
  }
  beast::flat_buffer buffer;

  while (!draining_) {
    if (buffer.size() == 0) {
      stream.expires_after(limits_.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
      if (ec) break;
      buffer.commit(n);
    }
    state->busy = true;
    ++busy_;
    auto started = clock::now();
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser.body_limit(limits_.max_body_bytes);

    std::size_t header_bytes = 0;
    std::optional<error> refused;
    beast::error_code hec;
    {
      read_deadline header_deadline(stream, limits_.header_timeout);
      hec = header_deadline.finish(co_await read_header_bytes(stream, buffer, limits_.max_header_bytes, header_bytes));
    }
    if (!hec) {
      std::size_t used = 0;
      refused = parse_checked_header(parser, {static_cast<const char*>(buffer.data().data()), header_bytes}, used);
      buffer.consume(used);
    }
    std::string id = hec || !parser.is_header_done() ? new_request_id() : accept_request_id(parser.get()["X-Request-Id"]);
    std::size_t bytes_in = header_bytes;
    beast::error_code ec = hec;
    if (!ec && !refused && !parser.is_done()) {
      const auto& expect = parser.get()[bhttp::field::expect];
      if (beast::iequals(expect, "100-continue")) {
        static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
        stream.expires_after(limits_.body_timeout);
        auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(cont.data(), cont.size()), use_tuple);
        ec = wec;
      }
      if (!ec) {
        read_deadline body_deadline(stream, limits_.body_timeout);
        auto [bec, body_bytes] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
        ec = body_deadline.finish(bec);
        bytes_in += body_bytes;
      }
    }
    if (ec || refused) {
      auto err = refused ? refused : read_failure(ec);
      if (err) {
        // The rejection is logged by the owner with method and path only: no header or body bytes.
        std::string method = parser.is_header_done() ? std::string(parser.get().method_string()) : "";
        std::string target = parser.is_header_done() ? std::string(parser.get().target()) : "";
        if (on_rejection_) on_rejection_({id, method, target, *err});
        stream.expires_after(std::chrono::seconds(5));
        co_await write_error_to(stream, *err, id, /*keep_alive=*/false);
        if (!stream.is_tls()) co_await finish_input(stream);
      }
      --busy_;
      break;
    }

    request req = parser.release();
    exchange ex{stream, buffer, req, std::move(id), started, bytes_in, req.keep_alive() && !draining_, *this};
    stream.expires_never();
    try {
      co_await handler_(ex);
    } catch (const std::exception& e) {
      log_event(log_level::error, "handler failed", {{"request_id", ex.request_id}, {"error", e.what()}});
      ex.keep_alive = false;
    }
    state->busy = false;
    --busy_;
    if (!ex.keep_alive) break;
  }

  state->stream = nullptr;
  {
    std::lock_guard lock(sessions_mutex_);
    sessions_.erase(state);
  }
  if (!stream.is_tls()) {
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.socket().close(ignored);
  }
}

void server::drain() {
  if (draining_.exchange(true)) return;
  for (auto& acceptor : acceptors_) {
    asio::post(acceptor->get_executor(), [acceptor] {
      beast::error_code ignored;
      acceptor->close(ignored);
    });
  }
  std::lock_guard lock(sessions_mutex_);
  for (const auto& state : sessions_) {
    asio::post(state->executor, [state] {
      if (state->stream && !state->busy) state->stream->socket().cancel();
    });
  }
}

void server::close_all() {
  drain();
  std::lock_guard lock(sessions_mutex_);
  for (const auto& state : sessions_) {
    asio::post(state->executor, [state] {
      beast::error_code ignored;
      if (state->stream) state->stream->socket().close(ignored);
    });
  }
}

}  // namespace laneway::http
