// Node health state machine: probe thresholds, circuit breaker with cool-down and half-open.
#include <doctest/doctest.h>

#include "routing/health.hpp"

using namespace laneway::routing;
using namespace std::chrono_literals;

TEST_SUITE("routing") {
  TEST_CASE("a node starts unhealthy and returns after healthy_threshold good probes") {
    node_health h({.unhealthy_threshold = 2, .healthy_threshold = 2});
    auto t = node_health::clock::now();
    CHECK_FALSE(h.healthy());
    CHECK(h.on_probe(true, t) == health_change::none);
    CHECK_FALSE(h.routable(t));
    CHECK(h.on_probe(true, t) == health_change::returned);
    CHECK(h.routable(t));
  }

  TEST_CASE("probe failures eject only after unhealthy_threshold in a row") {
    node_health h({.unhealthy_threshold = 3, .healthy_threshold = 1});
    auto t = node_health::clock::now();
    REQUIRE(h.on_probe(true, t) == health_change::returned);
    CHECK(h.on_probe(false, t) == health_change::none);
    CHECK(h.on_probe(false, t) == health_change::none);
    CHECK(h.on_probe(true, t) == health_change::none);  // the run is broken
    CHECK(h.on_probe(false, t) == health_change::none);
    CHECK(h.on_probe(false, t) == health_change::none);
    CHECK(h.on_probe(false, t) == health_change::ejected);
    CHECK_FALSE(h.routable(t));
    CHECK(h.on_probe(true, t) == health_change::returned);
  }

  TEST_CASE("traffic failures open the circuit for the cool-down, then half-open decides") {
    node_health h({.unhealthy_threshold = 1, .healthy_threshold = 1, .circuit_failures = 2, .circuit_cooldown = 10s});
    auto t = node_health::clock::now();
    REQUIRE(h.on_probe(true, t) == health_change::returned);
    CHECK(h.on_traffic(true, t) == health_change::none);
    CHECK(h.on_traffic(true, t) == health_change::circuit_opened);
    CHECK(h.circuit(t) == circuit_state::open);
    CHECK_FALSE(h.routable(t + 9s));
    CHECK(h.circuit(t + 10s) == circuit_state::half_open);
    CHECK(h.routable(t + 10s));

    SUBCASE("a failed trial opens it again at once") {
      CHECK(h.on_traffic(true, t + 10s) == health_change::circuit_opened);
      CHECK_FALSE(h.routable(t + 11s));
      CHECK(h.routable(t + 20s));
    }
    SUBCASE("a good trial closes it") {
      CHECK(h.on_traffic(false, t + 10s) == health_change::circuit_closed);
      CHECK(h.circuit(t + 10s) == circuit_state::closed);
      CHECK(h.on_traffic(true, t + 10s) == health_change::none);  // the count starts over
    }
  }

  TEST_CASE("a success between traffic failures resets the count") {
    node_health h({.circuit_failures = 2});
    auto t = node_health::clock::now();
    h.on_probe(true, t);
    CHECK(h.on_traffic(true, t) == health_change::none);
    CHECK(h.on_traffic(false, t) == health_change::none);
    CHECK(h.on_traffic(true, t) == health_change::none);
    CHECK(h.circuit(t) == circuit_state::closed);
  }

  TEST_CASE("names of changes and states") {
    CHECK(to_string(health_change::ejected) == "ejected");
    CHECK(to_string(circuit_state::half_open) == "half_open");
  }
}
