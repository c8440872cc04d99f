// Node connections and the probe GET (see upstream_client.hpp).
#include "gateway/upstream_client.hpp"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <memory>
#include <optional>
#include <utility>

#include "gateway/upstream_tls.hpp"

namespace laneway::gateway {

namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Resolves the URL's host within `timeout`. asio's resolver runs getaddrinfo on a thread of its
// own, which cancel() cannot interrupt, so the coroutine waits on a timer that the answer cancels:
// a DNS server that never answers ends the attempt at the deadline, and its late answer is dropped.
asio::awaitable<http::result<tcp::resolver::results_type>> resolve_within(const node_url& url,
                                                                          std::chrono::milliseconds timeout) {
  struct pending {
    explicit pending(const asio::any_io_executor& ex) : resolver(ex), timer(ex) {}
    tcp::resolver resolver;
    asio::steady_timer timer;
    std::optional<std::pair<beast::error_code, tcp::resolver::results_type>> answer;
  };
  auto p = std::make_shared<pending>(co_await asio::this_coro::executor);
  p->timer.expires_after(timeout);
  p->resolver.async_resolve(url.host, std::to_string(url.port),
                            [p](const beast::error_code& ec, tcp::resolver::results_type results) {
                              p->answer.emplace(ec, std::move(results));
                              p->timer.cancel();
                            });
  co_await p->timer.async_wait(use_tuple);
  if (!p->answer) {
    p->resolver.cancel();
    co_return http::make_error(http::error_kind::upstream_connect, "resolving " + url.host + " timed out");
  }
  if (const auto& ec = p->answer->first) {
    co_return http::make_error(http::error_kind::upstream_connect, "cannot resolve " + url.host + ": " + ec.message());
  }
  co_return std::move(p->answer->second);
}

}  // namespace

asio::awaitable<http::result<bool>> connect_tcp(beast::tcp_stream& stream, const node_url& url,
                                                std::chrono::milliseconds timeout) {
  beast::error_code ec;
  auto address = asio::ip::make_address(url.host, ec);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!ec) {
    stream.expires_after(timeout);
    auto [cec] = co_await stream.async_connect(tcp::endpoint(address, url.port), use_tuple);
    ec = cec;
  } else {
    auto resolved = co_await resolve_within(url, timeout);
    if (!resolved) co_return resolved.err();
    stream.expires_at(deadline);  // resolution and connect share the one timeout
    auto [cec, endpoint] = co_await stream.async_connect(*resolved, use_tuple);
    ec = cec;
  }
  stream.expires_never();
  if (ec == beast::error::timeout) {
    co_return http::make_error(http::error_kind::upstream_connect, "connect to " + url.text() + " timed out");
  }
  if (ec) co_return http::make_error(http::error_kind::upstream_connect, "connect to " + url.text() + ": " + ec.message());
  stream.socket().set_option(tcp::no_delay(true), ec);
  co_return true;
}

asio::awaitable<http::result<bool>> connect_node(upstream_stream& stream, const node_url& url, const upstream_tls* tls,
                                                 std::chrono::milliseconds timeout) {
  // The node's TLS files could not be loaded (changed since the config was checked): say why.
  if (tls && !tls->context()) co_return http::make_error(http::error_kind::upstream_connect, tls->problem());
  stream.reset(tls, tls ? tls->context() : nullptr);
  auto connected = co_await connect_tcp(stream.tcp(), url, timeout);
  if (!connected) co_return connected;
  if (!tls) co_return false;
  co_return co_await tls->handshake(*stream.tls(), timeout);
}

asio::awaitable<http::result<string_response>> get_on(upstream_stream& stream, beast::flat_buffer& buffer,
                                                      const node_url& url, const std::string& path,
                                                      std::chrono::milliseconds timeout, std::size_t max_body) {
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, url.prefix + path, 11};
  req.set(bhttp::field::host, url.host_header());
  req.set(bhttp::field::user_agent, "laneway-gateway");
  req.set(bhttp::field::accept, "application/json");
  req.keep_alive(true);
  stream.expires_after(timeout);
  auto [wec, wn] = co_await bhttp::async_write(stream, req, use_tuple);
  if (wec) {
    co_return http::make_error(http::error_kind::upstream_reset, "GET " + path + ": " + wec.message());
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_body);
  auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
  stream.expires_never();
  if (rec == beast::error::timeout) {
    co_return http::make_error(http::error_kind::upstream_timeout, "GET " + path + " timed out");
  }
  if (rec && stream.settings() && rec.category() == asio::error::get_ssl_category()) {
    // A TLS alert after the handshake: with TLS 1.3 a node that requires a client certificate
    // says so only now, at the first read.
    co_return http::make_error(http::error_kind::upstream_connect, stream.settings()->refused(rec.message()));
  }
  if (rec) co_return http::make_error(http::error_kind::upstream_bad_response, "GET " + path + ": " + rec.message());
  co_return parser.release();
}

bool connection_dead(upstream_stream& stream) {
  auto& socket = stream.socket();
  if (!socket.is_open()) return true;
  char byte;
  ssize_t r = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (r == 0) return true;   // orderly close by the node
  if (r > 0) return true;    // bytes nobody asked for: the connection is out of step
  return !(errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace laneway::gateway
