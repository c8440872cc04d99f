// The KV event feed: batches numbered from 1, netting within a step, snapshots as of a batch,
// consumers that fell behind the bounded history told to resnapshot, and — over a randomized run
// of a paged cache — snapshot + later batches always equal the hashes the cache holds.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <set>
#include <vector>

#include "backends/engine/kv_events.hpp"
#include "backends/engine/paged_kv_cache.hpp"

using namespace laneway::engine;

namespace {

void apply_batches(std::set<uint64_t>& held, const std::vector<kv_event_batch>& batches) {
  for (const kv_event_batch& b : batches) {
    for (uint64_t h : b.stored) held.insert(h);
    for (uint64_t h : b.removed) held.erase(h);
  }
}

std::set<uint64_t> as_set(const std::vector<uint64_t>& v) { return {v.begin(), v.end()}; }

}  // namespace

TEST_SUITE("engine") {
  TEST_CASE("kv events: batches, netting and snapshots") {
    kv_event_feed feed(3);
    CHECK(feed.last_seq() == 0);
    feed.publish();  // nothing pending: no batch
    CHECK(feed.last_seq() == 0);
    std::vector<kv_event_batch> out;
    CHECK(feed.since(0, out));
    CHECK(out.empty());

    feed.stored(1), feed.stored(2), feed.stored(3);
    feed.removed(3);  // stored and evicted within the step: never shows
    feed.publish();
    CHECK(feed.last_seq() == 1);
    REQUIRE(feed.since(0, out));
    REQUIRE(out.size() == 1);
    CHECK(out[0].seq == 1);
    CHECK(as_set(out[0].stored) == std::set<uint64_t>{1, 2});
    CHECK(out[0].removed.empty());

    feed.removed(1), feed.stored(1);  // evicted and stored again: no change
    feed.removed(2), feed.stored(4);
    feed.publish();
    const kv_snapshot snap = feed.snapshot();
    CHECK(snap.seq == 2);
    CHECK(as_set(snap.hashes) == std::set<uint64_t>{1, 4});
    out.clear();
    REQUIRE(feed.since(1, out));
    REQUIRE(out.size() == 1);
    CHECK(out[0].stored == std::vector<uint64_t>{4});
    CHECK(out[0].removed == std::vector<uint64_t>{2});

    // History of 3: after batches 3..5, a consumer at 1 fell behind; one at 2 did not.
    for (uint64_t h = 10; h < 13; ++h) feed.stored(h), feed.publish();
    CHECK(feed.last_seq() == 5);
    out.clear();
    CHECK_FALSE(feed.since(1, out));
    CHECK(feed.since(2, out));
    CHECK(out.size() == 3);
    CHECK(out.front().seq == 3);
    out.clear();
    CHECK(feed.since(5, out));
    CHECK(out.empty());
    CHECK_FALSE(feed.since(6, out));  // a number this feed never gave out
  }

  TEST_CASE("kv events: snapshot plus batches equals the cache's held hashes") {
    kv_event_feed feed(1 << 16);
    const kv_layout layout{1, 1, 2, laneway::cpu::dtype::f32};
    paged_kv_cache cache(layout, 12, 4, 4, 40, 99, &feed);
    uint32_t rng = 1;
    auto next = [&](uint32_t n) {
      rng = rng * 1664525u + 1013904223u;
      return (rng >> 8) % n;
    };
    std::vector<std::vector<int32_t>> toks(4);
    std::vector<std::size_t> computed(4, 0);
    std::vector<bool> live(4, false);
    std::set<uint64_t> mirror;  // a consumer following from the start
    uint64_t at = 0;
    std::set<uint64_t> late;  // a consumer that snapshots at step 100
    uint64_t late_at = 0;
    for (int step = 0; step < 400; ++step) {
      const int s = static_cast<int>(next(4));
      if (!live[s]) {
        // Prompts from a small alphabet of shared prefixes so hits and evictions both happen.
        toks[s].clear();
        const int32_t family = static_cast<int32_t>(next(3));
        const std::size_t len = 5 + next(30);
        for (std::size_t i = 0; i < len; ++i) toks[s].push_back(i < 12 ? family * 100 + static_cast<int32_t>(i) : static_cast<int32_t>(next(50)));
        const prefix_hit hit = cache.find_prefix(toks[s]);
        if (cache.admit(s, hit, static_cast<int32_t>(len))) {
          live[s] = true;
          computed[s] = static_cast<std::size_t>(hit.tokens(4));
        }
      } else if (computed[s] < toks[s].size() && next(4) != 0) {
        computed[s] = std::min(toks[s].size(), computed[s] + 1 + next(8));
        cache.commit(s, std::span(toks[s]).first(computed[s]));
      } else {
        cache.release(s);
        live[s] = false;
      }
      feed.publish();
      std::vector<kv_event_batch> out;
      REQUIRE(feed.since(at, out));
      apply_batches(mirror, out);
      at = feed.last_seq();
      if (step == 100) {
        const kv_snapshot snap = feed.snapshot();
        late = as_set(snap.hashes);
        late_at = snap.seq;
      } else if (step > 100) {
        out.clear();
        REQUIRE(feed.since(late_at, out));
        apply_batches(late, out);
        late_at = feed.last_seq();
        CHECK(late == as_set(cache.held_hashes()));
      }
      CHECK(mirror == as_set(cache.held_hashes()));
      CHECK(as_set(feed.snapshot().hashes) == as_set(cache.held_hashes()));
    }
    CHECK(cache.evictions() > 0);
    CHECK(feed.last_seq() > 10);
  }
}
