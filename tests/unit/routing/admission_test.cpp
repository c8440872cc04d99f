// Token buckets and lane admission: rate limits with Retry-After, usage correction, in-flight
// caps, bounded queues and timeouts, priority and weighted fairness, tenant fairness, shedding.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "routing/admission.hpp"

using namespace laneway::routing;
using namespace std::chrono_literals;

namespace {

const auto t0 = std::chrono::steady_clock::time_point{} + 1000s;

lane_config lane_named(std::string name, int max_in_flight, std::size_t max_queue) {
  lane_config l;
  l.name = std::move(name);
  l.max_in_flight = max_in_flight;
  l.max_queue = max_queue;
  return l;
}

}  // namespace

TEST_SUITE("routing") {
  TEST_CASE("token bucket: burst, refill, cap at burst, debt and refund") {
    token_bucket b(2, 4, t0);  // 2 per second, 4 at most
    for (int i = 0; i < 4; ++i) CHECK(b.try_take(1, t0));
    CHECK_FALSE(b.try_take(1, t0));
    CHECK(b.seconds_until(1, t0) == doctest::Approx(0.5));
    CHECK(b.try_take(1, t0 + 500ms));
    CHECK(b.available(t0 + 10s) == doctest::Approx(4));  // never above burst
    CHECK(b.try_take(100, t0 + 10s));                    // capped at burst: slow, not impossible
    b.adjust(3, t0 + 10s);                               // cost more than estimated: debt
    CHECK(b.available(t0 + 10s) == doctest::Approx(-3));
    CHECK(b.seconds_until(1, t0 + 10s) == doctest::Approx(2));
    b.adjust(-10, t0 + 10s);  // refund, capped at burst
    CHECK(b.available(t0 + 10s) == doctest::Approx(4));
    token_bucket unlimited(0, 0, t0);
    for (int i = 0; i < 1000; ++i) CHECK(unlimited.try_take(1e6, t0));
  }

  TEST_CASE("rate limits reject with 429 and a Retry-After; a rejected request takes nothing") {
    auto chat = lane_named("chat", 0, 0);
    chat.requests_per_s = 1;
    chat.request_burst = 2;
    chat.tokens_per_min = 600;  // 10 tokens/s, burst 600
    admission_controller ac({chat}, t0);
    CHECK(ac.admit({"chat", "t", 100}, t0).status == admission_status::admitted);
    CHECK(ac.admit({"chat", "t", 100}, t0).status == admission_status::admitted);
    auto r = ac.admit({"chat", "t", 100}, t0);
    CHECK(r.status == admission_status::rejected);
    CHECK(r.reason == reject_reason::request_rate);
    CHECK(r.http_status == 429);
    CHECK(r.retry_after_s == 1);
    auto big = ac.admit({"chat", "t", 450}, t0 + 1s);  // 400 + 10 left after one second
    CHECK(big.reason == reject_reason::token_rate);
    CHECK(big.retry_after_s == 4);  // (450 − 410) / 10 per s
    CHECK(ac.admit({"chat", "t", 100}, t0 + 1s).status == admission_status::admitted);  // the request token came back
    CHECK(ac.stats("chat")->rejected == 2);
  }

  TEST_CASE("usage corrects the token bucket: under-estimates are paid back") {
    auto l = lane_named("l", 0, 0);
    l.tokens_per_min = 60;  // 1 token/s, burst 60
    admission_controller ac({l}, t0);
    auto a = ac.admit({"l", "t", 10}, t0);
    REQUIRE(a.status == admission_status::admitted);
    ac.finish(a.id, 70, t0);  // it used 70 of a 60-token burst: the bucket is 10 in debt
    auto r = ac.admit({"l", "t", 1}, t0);
    CHECK(r.reason == reject_reason::token_rate);
    CHECK(r.retry_after_s == 11);
    CHECK(ac.stats("l")->served_tokens == doctest::Approx(70));
  }

  TEST_CASE("in-flight cap, bounded queue, FIFO when capacity frees, timeout") {
    auto l = lane_named("batch", 2, 2);
    l.queue_timeout = 5s;
    admission_controller ac({l}, t0);
    auto a = ac.admit({"batch", "t", 1}, t0), b = ac.admit({"batch", "t", 1}, t0);
    auto c = ac.admit({"batch", "t", 1}, t0), d = ac.admit({"batch", "t", 1}, t0 + 1s);
    auto e = ac.admit({"batch", "t", 1}, t0 + 1s);
    CHECK(a.status == admission_status::admitted);
    CHECK(b.status == admission_status::admitted);
    CHECK(c.status == admission_status::queued);
    CHECK(d.status == admission_status::queued);
    CHECK(e.reason == reject_reason::queue_full);
    CHECK(e.http_status == 429);
    CHECK(ac.next_deadline() == t0 + 5s);
    CHECK(ac.finish(a.id, -1, t0 + 2s) == std::vector<ticket>{c.id});
    CHECK(ac.expire(t0 + 5s).empty());  // c left the queue; d waits until t0 + 6 s
    CHECK(ac.expire(t0 + 6s) == std::vector<ticket>{d.id});
    CHECK(ac.stats("batch")->timed_out == 1);
    CHECK(ac.stats("batch")->queued == 0);
    CHECK(ac.enqueued_at(c.id) == t0);
    CHECK(ac.finish(b.id, -1, t0 + 7s).empty());
  }

  TEST_CASE("a new request does not overtake the lane's queue; cancel removes a waiting one") {
    admission_controller ac({lane_named("l", 1, 4)}, t0);
    auto a = ac.admit({"l", "t", 1}, t0);
    auto b = ac.admit({"l", "t", 1}, t0);
    auto c = ac.admit({"l", "t", 1}, t0);
    REQUIRE(b.status == admission_status::queued);
    CHECK(ac.cancel(b.id, t0));
    CHECK_FALSE(ac.cancel(b.id, t0));
    CHECK_FALSE(ac.cancel(a.id, t0));  // in flight: finish, not cancel
    CHECK(ac.finish(a.id, -1, t0) == std::vector<ticket>{c.id});
  }

  TEST_CASE("capacity frees by priority, then by weight among equal priorities") {
    auto chat = lane_named("chat", 0, 100), agents = lane_named("agents", 0, 100), batch = lane_named("batch", 0, 100);
    chat.priority = 10;
    agents.weight = 3;
    batch.weight = 1;
    admission_controller ac({chat, agents, batch}, t0, 1);
    auto first = ac.admit({"batch", "t", 100}, t0);
    REQUIRE(first.status == admission_status::admitted);
    std::map<ticket, std::string> lane_of;
    for (int i = 0; i < 40; ++i) {
      lane_of[ac.admit({"agents", "t", 100}, t0).id] = "agents";
      lane_of[ac.admit({"batch", "t", 100}, t0).id] = "batch";
    }
    auto urgent = ac.admit({"chat", "t", 100}, t0);
    CHECK(urgent.status == admission_status::queued);
    auto next = ac.finish(first.id, -1, t0);
    CHECK(next == std::vector<ticket>{urgent.id});  // priority first
    std::map<std::string, int> served;
    ticket running = urgent.id;
    for (int i = 0; i < 40; ++i) {
      auto started = ac.finish(running, -1, t0);
      REQUIRE(started.size() == 1);
      running = started[0];
      ++served[lane_of[running]];
    }
    CHECK(served["agents"] == 30);  // 3 : 1 (batch had already got 100 tokens in)
    CHECK(served["batch"] == 10);
  }

  TEST_CASE("tenants inside a lane share by tokens served") {
    admission_controller ac({lane_named("l", 1, 100)}, t0);
    auto first = ac.admit({"l", "heavy", 10}, t0);
    std::map<ticket, std::string> tenant_of;
    for (int i = 0; i < 20; ++i) tenant_of[ac.admit({"l", "heavy", 400}, t0).id] = "heavy";
    for (int i = 0; i < 20; ++i) tenant_of[ac.admit({"l", "light", 100}, t0).id] = "light";
    std::map<std::string, int> served_tokens;
    ticket running = first.id;
    for (int i = 0; i < 10; ++i) {
      auto started = ac.finish(running, -1, t0);
      REQUIRE(started.size() == 1);
      running = started[0];
      served_tokens[tenant_of[running]] += tenant_of[running] == "heavy" ? 400 : 100;
    }
    CHECK(served_tokens["heavy"] == 800);  // light gets 4 requests per heavy one: tokens stay even
    CHECK(served_tokens["light"] == 800);
  }

  TEST_CASE("sheddable lanes are rejected with 503 while saturated; others queue") {
    auto chat = lane_named("chat", 0, 10), batch = lane_named("batch", 0, 10);
    batch.sheddable = true;
    admission_controller ac({chat, batch}, t0, 2);
    auto a = ac.admit({"batch", "t", 1}, t0);
    auto b = ac.admit({"chat", "t", 1}, t0);
    REQUIRE(ac.saturated());
    auto shed = ac.admit({"batch", "t", 1}, t0);
    CHECK(shed.reason == reject_reason::shed);
    CHECK(shed.http_status == 503);
    CHECK(ac.stats("batch")->shed == 1);
    auto c = ac.admit({"chat", "t", 1}, t0);
    CHECK(c.status == admission_status::queued);
    CHECK(ac.set_capacity(3, t0) == std::vector<ticket>{c.id});
    CHECK(ac.in_flight() == 3);
    ac.finish(a.id, -1, t0);
    CHECK(ac.admit({"batch", "t", 1}, t0).status == admission_status::admitted);
    (void)b;
  }

  TEST_CASE("an unknown lane is a 500; names of outcomes") {
    admission_controller ac({lane_named("l", 0, 0)}, t0);
    auto r = ac.admit({"nope", "t", 1}, t0);
    CHECK(r.reason == reject_reason::unknown_lane);
    CHECK(r.http_status == 500);
    CHECK(to_string(reject_reason::queue_timeout) == "queue_timeout");
    CHECK(to_string(admission_status::queued) == "queued");
    CHECK_FALSE(ac.stats("nope"));
    CHECK(ac.lane("l")->name == "l");
  }
}
