// Routing policies: factory by name, least_in_flight choice and tie rotation, round_robin.
#include <doctest/doctest.h>

#include <map>
#include <vector>

#include "routing/policy.hpp"

using namespace laneway::routing;

TEST_SUITE("routing") {
  TEST_CASE("policies are created by name and name themselves") {
    for (const auto& name : policy_names()) {
      auto p = make_policy(name);
      REQUIRE(p);
      CHECK(p->name() == name);
    }
    CHECK_FALSE(make_policy("kv_magic"));
  }

  TEST_CASE("no candidates, no choice") {
    for (const auto& name : policy_names()) CHECK_FALSE(make_policy(name)->pick({}, {"m"}).index.has_value());
  }

  TEST_CASE("least_in_flight picks the least loaded node") {
    struct row {
      std::vector<int> loads;
      std::size_t expected;
    };
    const row table[] = {{{3, 1, 2}, 1}, {{0}, 0}, {{5, 4, 9, 7}, 1}, {{2, 2, 0}, 2}};
    auto p = make_policy("least_in_flight");
    for (const auto& r : table) {
      std::vector<candidate> c;
      for (std::size_t i = 0; i < r.loads.size(); ++i) c.push_back({i, "n", r.loads[i]});
      CAPTURE(r.expected);
      CHECK(p->pick(c, {"m"}).index == r.expected);
    }
  }

  TEST_CASE("least_in_flight rotates among tied nodes") {
    auto p = make_policy("least_in_flight");
    std::vector<candidate> c = {{0, "a", 1}, {1, "b", 0}, {2, "c", 0}, {3, "d", 2}};
    std::map<std::size_t, int> hits;
    for (int i = 0; i < 100; ++i) ++hits[*p->pick(c, {"m"}).index];
    CHECK(hits.size() == 2);
    CHECK(hits[1] == 50);
    CHECK(hits[2] == 50);
  }

  TEST_CASE("round_robin visits every node in turn") {
    auto p = make_policy("round_robin");
    std::vector<candidate> c = {{0, "a", 9}, {1, "b", 0}, {2, "c", 5}};
    std::map<std::size_t, int> hits;
    for (int i = 0; i < 30; ++i) ++hits[*p->pick(c, {"m"}).index];
    CHECK(hits[0] == 10);
    CHECK(hits[1] == 10);
    CHECK(hits[2] == 10);
  }
}
