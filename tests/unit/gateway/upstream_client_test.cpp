// connect_tcp, the one TCP connect of the gateway and `laneway ladder`: a listening loopback
// port connects (TCP_NODELAY set), a closed one is upstream_connect naming the URL, and a name
// that does not resolve fails within the connect timeout (resolution is inside the deadline).
#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <optional>

#include "gateway/upstream_client.hpp"

using namespace laneway::gateway;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

struct attempt {
  std::optional<laneway::http::result<bool>> got;
  std::chrono::milliseconds took{0};
};

attempt connect_once(asio::io_context& ioc, beast::tcp_stream& stream, const std::string& url_text,
                     std::chrono::milliseconds timeout) {
  auto url = parse_node_url(url_text);
  REQUIRE(url);
  attempt out;
  const auto started = std::chrono::steady_clock::now();
  asio::co_spawn(
      ioc, [&]() -> asio::awaitable<void> { out.got.emplace(co_await connect_tcp(stream, *url, timeout)); },
      asio::detached);
  // The bound is connect_tcp's own; this one is a backstop. A late DNS answer may still be
  // pending after the attempt ended: it is not waited for.
  const auto backstop = started + timeout + std::chrono::seconds(5);
  while (!out.got && std::chrono::steady_clock::now() < backstop) ioc.run_one_until(backstop);
  out.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  return out;
}

}  // namespace

TEST_SUITE("gateway") {
  TEST_CASE("connect_tcp: a listening port connects with TCP_NODELAY") {
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    beast::tcp_stream stream(ioc);
    const auto port = acceptor.local_endpoint().port();
    auto a = connect_once(ioc, stream, "http://127.0.0.1:" + std::to_string(port), std::chrono::seconds(2));
    REQUIRE(a.got);
    REQUIRE(a.got->ok());
    tcp::no_delay nodelay;
    stream.socket().get_option(nodelay);
    CHECK(nodelay.value());
  }

  TEST_CASE("connect_tcp: a closed port is upstream_connect naming the node's URL") {
    asio::io_context ioc;
    std::uint16_t port = 0;
    {
      tcp::acceptor probe(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
      port = probe.local_endpoint().port();
    }  // closed again: nothing listens there now
    beast::tcp_stream stream(ioc);
    const std::string url = "http://127.0.0.1:" + std::to_string(port);
    auto a = connect_once(ioc, stream, url, std::chrono::seconds(2));
    REQUIRE(a.got);
    REQUIRE_FALSE(a.got->ok());
    CHECK(a.got->err().kind == laneway::http::error_kind::upstream_connect);
    CHECK(a.got->err().message.find("connect to " + url) != std::string::npos);
  }

  TEST_CASE("connect_tcp: a name that does not resolve fails within the timeout") {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    const auto timeout = std::chrono::milliseconds(500);
    // .invalid never resolves (RFC 6761): the resolver answers "not found", or has not answered
    // by the deadline (no DNS server reachable), which must end the attempt just the same.
    auto a = connect_once(ioc, stream, "http://laneway-test-node.invalid:8080", timeout);
    REQUIRE(a.got);
    REQUIRE_FALSE(a.got->ok());
    CHECK(a.got->err().kind == laneway::http::error_kind::upstream_connect);
    const std::string& why = a.got->err().message;
    CHECK_MESSAGE((why.find("cannot resolve laneway-test-node.invalid") != std::string::npos ||
                   why.find("resolving laneway-test-node.invalid timed out") != std::string::npos),
                  why);
    CHECK(a.took < timeout + std::chrono::seconds(1));
  }
}
