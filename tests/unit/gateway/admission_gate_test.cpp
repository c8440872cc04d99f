// Admission in coroutines: a queued request waits on its timer without blocking the thread and
// is woken when a slot frees; a full queue is a 429 with Retry-After; a wait past the lane's
// queue_timeout is a 503; a rate limit is a 429.
#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>

#include "gateway/admission_gate.hpp"

using namespace laneway::gateway;
namespace routing = laneway::routing;
namespace asio = boost::asio;
using laneway::http::result;

namespace {

routing::lane_config lane(std::string name, int max_in_flight, std::size_t max_queue, int timeout_ms) {
  routing::lane_config l;
  l.name = std::move(name);
  l.max_in_flight = max_in_flight;
  l.max_queue = max_queue;
  l.queue_timeout = std::chrono::milliseconds(timeout_ms);
  return l;
}

struct outcome {
  std::optional<result<admission_gate::pass>> got;
};

void spawn_admit(asio::io_context& ioc, admission_gate& gate, std::string lane_name, outcome& out) {
  asio::co_spawn(
      ioc,
      [&gate, &out, lane_name]() -> asio::awaitable<void> {
        out.got.emplace(co_await gate.admit({lane_name, "t", 10}));
      },
      asio::detached);
}

}  // namespace

TEST_SUITE("gateway") {
  TEST_CASE("a queued request is admitted when a slot frees; a full queue is a 429") {
    asio::io_context ioc;
    admission_gate gate({lane("chat", 1, 1, 5000)}, 0);
    outcome a, b, c;
    spawn_admit(ioc, gate, "chat", a);
    spawn_admit(ioc, gate, "chat", b);
    spawn_admit(ioc, gate, "chat", c);
    ioc.run_for(std::chrono::milliseconds(50));
    REQUIRE(a.got);
    REQUIRE(a.got->ok());
    CHECK_FALSE(b.got);  // waiting, and the thread kept running the others
    REQUIRE(c.got);
    REQUIRE_FALSE(c.got->ok());
    CHECK(c.got->err().status() == 429);
    CHECK(c.got->err().code() == "queue_full");
    CHECK(c.got->err().retry_after_s >= 1);
    gate.finish(a.got->value().id, 20);
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(50));
    REQUIRE(b.got);
    REQUIRE(b.got->ok());
    CHECK(b.got->value().queue_wait_ms > 0);
    gate.finish(b.got->value().id, -1);
    auto s = gate.stats("chat");
    REQUIRE(s);
    CHECK(s->in_flight == 0);
  }

  TEST_CASE("a wait past queue_timeout is a 503 queue_timeout") {
    asio::io_context ioc;
    admission_gate gate({lane("batch", 1, 4, 30)}, 0);
    outcome a, b;
    spawn_admit(ioc, gate, "batch", a);
    spawn_admit(ioc, gate, "batch", b);
    auto start = std::chrono::steady_clock::now();
    ioc.run_for(std::chrono::milliseconds(300));
    REQUIRE(b.got);
    REQUIRE_FALSE(b.got->ok());
    CHECK(b.got->err().status() == 503);
    CHECK(b.got->err().code() == "queue_timeout");
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(30));
    auto s = gate.stats("batch");
    REQUIRE(s);
    CHECK(s->timed_out == 1);
  }

  TEST_CASE("request rate limit is a 429 rate_limit_exceeded") {
    asio::io_context ioc;
    auto l = lane("api", 0, 0, 1000);
    l.requests_per_s = 0.5;
    l.request_burst = 1;
    admission_gate gate({l}, 0);
    outcome a, b;
    spawn_admit(ioc, gate, "api", a);
    spawn_admit(ioc, gate, "api", b);
    ioc.run_for(std::chrono::milliseconds(20));
    REQUIRE(a.got);
    CHECK(a.got->ok());
    REQUIRE(b.got);
    REQUIRE_FALSE(b.got->ok());
    CHECK(b.got->err().code() == "rate_limit_exceeded");
    CHECK(b.got->err().retry_after_s >= 1);
  }
}

TEST_SUITE("gateway") {
  TEST_CASE("cancel takes a waiter out of the queue at once") {
    asio::io_context ioc;
    admission_gate gate({lane("q", 1, 1, 5000)}, 0);
    outcome a, b, c;
    routing::ticket queued_id = 0;
    spawn_admit(ioc, gate, "q", a);
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          b.got.emplace(co_await gate.admit({"q", "t", 10}, [&](routing::ticket id) { queued_id = id; }));
        },
        asio::detached);
    ioc.run_for(std::chrono::milliseconds(20));
    REQUIRE(queued_id != 0);
    CHECK(gate.cancel(queued_id));
    CHECK_FALSE(gate.cancel(queued_id));
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(20));
    REQUIRE(b.got);
    CHECK_FALSE(b.got->ok());
    spawn_admit(ioc, gate, "q", c);  // the freed queue place is usable
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(20));
    CHECK_FALSE(c.got);
    gate.finish(a.got->value().id, -1);
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(20));
    REQUIRE(c.got);
    CHECK(c.got->ok());
  }
}
