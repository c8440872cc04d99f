// The routing benchmark's parts: the simulated KV cache (hits, LRU eviction tail first, netted
// events that keep a precise_index equal to the cache), the workload's shape, and a short run
// where prefix-aware routing must beat round robin on hit rate and p95 TTFT.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "routing/sim/sim_kv_cache.hpp"
#include "routing/sim/simulation.hpp"

using namespace laneway::routing;
using namespace laneway::routing::sim;

TEST_SUITE("routing") {
  TEST_CASE("sim cache: commit, hit, release tail first, evict least recent, events net out") {
    sim_kv_cache cache(4);
    const std::vector<block_hash> a = {1, 2, 3}, b = {7, 8};
    REQUIRE(cache.admit(a, 0, 3));
    for (auto h : a) CHECK(cache.commit(h));
    CHECK(cache.leading(a, 3) == 3);
    CHECK_FALSE(cache.admit(b, 0, 2));  // 1 free block, nothing evictable
    cache.release(a, 0);
    CHECK(cache.free_blocks() == 4);
    REQUIRE(cache.admit(b, 0, 2));  // the plain block, then a's tail (3)
    CHECK(cache.leading(a, 3) == 2);
    std::vector<block_hash> stored, removed;
    cache.take_events(stored, removed);
    CHECK(std::set<block_hash>(stored.begin(), stored.end()) == std::set<block_hash>{1, 2});  // 3 stored then removed
    CHECK(removed.empty());
    CHECK_FALSE(cache.admit(a, 2, 1));  // the only free blocks are the hits themselves
    CHECK(cache.admit(a, 2, 0));        // hits 1, 2 pulled back out of the free queue
    CHECK(cache.free_blocks() == 0);
  }

  TEST_CASE("sim events keep a precise_index equal to the cache") {
    sim_kv_cache cache(6);
    precise_index index;
    index.apply_snapshot(0, 0, cache.snapshot());
    std::uint64_t seq = 0;
    std::vector<block_hash> stored, removed;
    for (block_hash round = 0; round < 20; ++round) {
      std::vector<block_hash> p = {100 + round % 5, 200 + round, 300 + round};
      REQUIRE(cache.admit(p, 0, 3));
      for (auto h : p) cache.commit(h);
      cache.release(p, 0);
      cache.take_events(stored, removed);
      CHECK(index.apply_batch(0, ++seq, stored, removed) == batch_result::applied);
      auto held = cache.snapshot();
      CHECK(index.blocks(0) == held.size());
      for (auto h : held) CHECK(index.holds(0, h));
    }
  }

  TEST_CASE("workload: shared system prompts, growing conversations, Poisson arrivals, deterministic") {
    workload_config w;
    w.requests = 400;
    auto a = make_workload(w), b = make_workload(w);
    REQUIRE(a.size() == 400);
    CHECK(a[123].prompt == b[123].prompt);
    for (std::size_t i = 1; i < a.size(); ++i) CHECK(a[i].arrival_s >= a[i - 1].arrival_s);
    CHECK(a.back().arrival_s == doctest::Approx(400 / w.arrivals_per_s).epsilon(0.2));
    for (const auto& r : a) {
      CHECK(r.prompt.size() >= std::size_t(w.system_min_tokens + w.message_min_tokens));
      CHECK(r.output_tokens == int(r.answer.size()));
    }
  }

  TEST_CASE("a short run: kv_aware finds the prefixes round_robin misses and answers sooner") {
    sim_config config;
    config.workload.requests = 600;
    const auto workload = make_workload(config.workload);
    policy_config kv, rr;
    kv.name = "kv_aware";
    rr.name = "round_robin";
    auto a = run_simulation(config, kv, workload), b = run_simulation(config, rr, workload);
    CHECK(a.requests == 600);
    CHECK(b.requests == 600);
    CHECK(a.hit_rate > b.hit_rate + 0.2);
    CHECK(a.hit_rate >= 0.9 * a.oracle_hit_rate);
    CHECK(a.ttft_p95 < b.ttft_p95);
    CHECK(a.ttft_p50 <= a.ttft_p95);
    CHECK(a.ttft_p95 <= a.ttft_p99);
  }
}
