// The paged KV cache: reference counts of shared prefix blocks, the free queue's eviction order
// (a released sequence's tail before its head), the hash chain against block_hashes(), all-or-
// nothing allocation, contiguous runs at block edges, and the forward pass giving the same logits
// over a paged cache (scattered blocks, shared prefix blocks) as over a contiguous one.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <span>
#include <vector>

#include "backends/engine/block_hash.hpp"
#include "backends/engine/forward.hpp"
#include "backends/engine/kv_cache.hpp"
#include "backends/engine/kv_events.hpp"
#include "backends/engine/model.hpp"
#include "backends/engine/paged_kv_cache.hpp"
#include "tests/unit/engine/forward_test_util.hpp"

using namespace laneway::engine;
using namespace laneway::engine::test;
using laneway::cpu::dtype;

namespace {

constexpr uint64_t seed = 0x5eed;
const kv_layout small_layout{2, 2, 4, dtype::f16};

std::vector<int32_t> iota_tokens(int n, int32_t first) {
  std::vector<int32_t> t(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) t[static_cast<std::size_t>(i)] = first + i;
  return t;
}

std::vector<int32_t> table_of(const paged_kv_cache& c, int32_t seq) {
  std::vector<int32_t> out;
  for (int64_t i = 0; i < c.blocks_of(seq); ++i) out.push_back(c.block_at(seq, static_cast<int32_t>(i)));
  return out;
}

std::set<uint64_t> as_set(const std::vector<uint64_t>& v) { return {v.begin(), v.end()}; }

// Pseudo-random tokens within the vocabulary.
std::vector<int32_t> tokens_for(const model& m, int n, int salt) {
  std::vector<int32_t> out;
  uint32_t s = 777u + static_cast<uint32_t>(salt) * 104729u;
  for (int i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    out.push_back(static_cast<int32_t>((s >> 8) % static_cast<uint32_t>(m.hparams().n_vocab)));
  }
  return out;
}

}  // namespace

TEST_SUITE("engine") {
  TEST_CASE("paged kv cache: shared prefix blocks are reference counted") {
    paged_kv_cache c(small_layout, 8, 4, 3, 32, seed);
    const auto a = iota_tokens(10, 100);  // blocks [100..103] [104..107] + 2 tokens
    REQUIRE(c.admit(0, c.find_prefix(a), 10));
    CHECK(c.blocks_of(0) == 3);
    CHECK(c.counts().free == 5);
    c.commit(0, a);
    CHECK(c.held_hashes().size() == 2);

    // Same first 9 tokens: both full blocks hit. Exactly one full block's worth of prompt (8
    // tokens) only hits the first: the last token must be computed.
    auto b = a;
    b[9] = 7;
    const prefix_hit hit = c.find_prefix(b);
    CHECK(hit.blocks == std::vector<int32_t>{c.block_at(0, 0), c.block_at(0, 1)});
    CHECK(c.find_prefix(std::span(a).first(8)).blocks.size() == 1);
    CHECK(c.find_prefix(std::span(a).first(9)).blocks.size() == 2);

    REQUIRE(c.admit(1, hit, 11));
    CHECK(c.blocks_of(1) == 3);
    CHECK(c.ref_count(c.block_at(0, 0)) == 2);
    CHECK(c.ref_count(c.block_at(0, 1)) == 2);
    CHECK(c.ref_count(c.block_at(1, 2)) == 1);
    CHECK(c.block_at(1, 2) != c.block_at(0, 2));
    CHECK(c.counts().free == 4);

    const auto shared = table_of(c, 0);
    c.release(0);
    CHECK(c.ref_count(shared[0]) == 1);
    CHECK(c.ref_count(shared[1]) == 1);
    CHECK(c.ref_count(shared[2]) == 0);
    CHECK(c.counts().free == 5);
    CHECK(c.counts().cached == 0);  // the shared ones are still referenced by slot 1
    c.release(1);
    CHECK(c.counts().free == 8);
    CHECK(c.counts().cached == 2);
    CHECK(c.ref_count(shared[0]) == 0);
  }

  TEST_CASE("paged kv cache: the hash chain is block_hashes() of the tokens") {
    paged_kv_cache c(small_layout, 16, 4, 2, 64, seed);
    const auto t = iota_tokens(23, 5);
    REQUIRE(c.admit(0, {}, 23));
    // Commit in uneven pieces, as chunked prefill does.
    for (std::size_t n : {3u, 4u, 9u, 17u, 23u}) c.commit(0, std::span(t).first(n));
    const auto want = block_hashes(t, seed, 4);
    REQUIRE(want.size() == 5);
    CHECK(as_set(c.held_hashes()) == as_set(want));
    // A different seed (another tokenizer) shares nothing.
    paged_kv_cache other(small_layout, 16, 4, 1, 64, seed + 1);
    REQUIRE(other.admit(0, {}, 23));
    other.commit(0, t);
    for (uint64_t h : other.held_hashes()) CHECK(std::find(want.begin(), want.end(), h) == want.end());
  }

  TEST_CASE("paged kv cache: a released sequence's tail is evicted before its head") {
    kv_event_feed events;
    paged_kv_cache c(small_layout, 6, 4, 2, 24, seed, &events);
    const auto a = iota_tokens(13, 1);  // 3 full blocks + 1 token
    REQUIRE(c.admit(0, {}, 13));
    c.commit(0, a);
    const auto blocks = table_of(c, 0);
    REQUIRE(blocks.size() == 4);
    const auto h = block_hashes(a, seed, 4);
    c.release(0);
    // The unhashed last block first, then the hashed ones tail to head, after the never-used.
    const auto q = c.free_queue();
    REQUIRE(q.size() == 6);
    CHECK(q.front() == blocks[3]);
    CHECK(std::vector<int32_t>(q.end() - 3, q.end()) == std::vector<int32_t>{blocks[2], blocks[1], blocks[0]});
    CHECK(c.counts().cached == 3);

    // Another prompt takes 4 blocks: the unhashed one, the 2 never used, then evicts the tail.
    const auto b = iota_tokens(16, 500);
    REQUIRE(c.admit(1, c.find_prefix(b), 16));
    CHECK(c.evictions() == 1);
    CHECK(c.counts().cached == 2);
    CHECK(as_set(c.held_hashes()) == std::set<uint64_t>{h[0], h[1]});
    // The head survives: a prompt sharing a's first two blocks still hits them.
    CHECK(c.find_prefix(a).blocks == std::vector<int32_t>{blocks[0], blocks[1]});

    // A hit pulls a block back out of the free queue.
    c.release(1);
    const prefix_hit hit = c.find_prefix(a);
    REQUIRE(c.admit(0, hit, 9));
    const auto q2 = c.free_queue();
    CHECK(std::find(q2.begin(), q2.end(), blocks[0]) == q2.end());
    CHECK(std::find(q2.begin(), q2.end(), blocks[1]) == q2.end());
    CHECK(c.counts().free == 3);
  }

  TEST_CASE("paged kv cache: allocation is all or nothing and never hands out a referenced block") {
    paged_kv_cache c(small_layout, 4, 4, 3, 64, seed);
    REQUIRE(c.admit(0, {}, 10));  // 3 blocks
    CHECK_FALSE(c.admit(1, {}, 5));  // needs 2, 1 free
    CHECK(c.blocks_of(1) == 0);
    CHECK(c.counts().free == 1);
    CHECK_FALSE(c.grow(0, 17));
    CHECK(c.blocks_of(0) == 3);
    CHECK(c.grow(0, 16));
    CHECK(c.counts().free == 0);
    CHECK_THROWS_AS(c.reserve(2, 1), std::length_error);
    CHECK_THROWS_AS(c.reserve(0, 65), std::length_error);
    std::set<int32_t> distinct;
    for (int32_t b : table_of(c, 0)) distinct.insert(b);
    CHECK(distinct.size() == 4);
    c.release(0);
    REQUIRE(c.admit(2, {}, 16));
    CHECK(c.counts().free == 0);
  }

  TEST_CASE("paged kv cache: a block whose hash is already held stays unhashed") {
    kv_event_feed events;
    paged_kv_cache c(small_layout, 8, 4, 2, 32, seed, &events);
    const auto a = iota_tokens(8, 40);
    // Two sequences computing the same prompt at once (neither could hit the other's blocks).
    REQUIRE(c.admit(0, {}, 8));
    REQUIRE(c.admit(1, {}, 8));
    c.commit(0, a);
    c.commit(1, a);
    CHECK(c.held_hashes().size() == 2);
    CHECK(c.is_cached(c.block_at(0, 0)));
    CHECK_FALSE(c.is_cached(c.block_at(1, 0)));
    events.publish();
    CHECK(events.snapshot().hashes.size() == 2);
    c.release(1);
    c.release(0);
    CHECK(c.counts().cached == 2);
  }

  TEST_CASE("paged kv cache: contiguous runs end at block edges") {
    paged_kv_cache c(small_layout, 8, 4, 1, 32, seed);
    REQUIRE(c.admit(0, {}, 12));
    CHECK(c.contiguous_run(0, 0, 12) == 4);
    CHECK(c.contiguous_run(0, 3, 12) == 1);
    CHECK(c.contiguous_run(0, 4, 2) == 2);
    CHECK(c.contiguous_run(0, 5, 7) == 3);
    const std::size_t rb = small_layout.row_bytes();
    for (int32_t p = 0; p < 12; ++p) {
      const int32_t run = c.contiguous_run(0, p, 12 - p);
      for (int32_t i = 0; i < run; ++i) {
        CHECK(c.k_row(1, 0, p + i) == c.k_row(1, 0, p) + i * rb);
        CHECK(c.v_row(1, 0, p + i) == c.v_row(1, 0, p) + i * rb);
      }
    }
    // rows of different layers and K/V never overlap
    CHECK(c.k_row(0, 0, 0) != c.k_row(1, 0, 0));
    CHECK(c.k_row(0, 0, 0) != c.v_row(0, 0, 0));
  }

  TEST_CASE("paged kv cache: the forward pass gives the same logits as over a contiguous cache") {
    for (const char* file : {"models/stories260K.gguf", "models/rand-qwen2-gpt2vocab-f16.gguf"}) {
      SUBCASE(file) {
        const model m = model::open(data_path(file));
        const int64_t nv = m.hparams().n_vocab;
        for (dtype t : {dtype::f32, dtype::f16}) {
          CAPTURE(static_cast<int>(t));
          const kv_layout layout = kv_layout_for(m, t);
          const auto a = tokens_for(m, 45, 1);
          auto bt = tokens_for(m, 30, 2);
          std::copy(a.begin(), a.begin() + 20, bt.begin());  // b shares a's first block (16)

          contiguous_kv_cache flat(layout, 2, 64);
          cpu_forward ff(m, flat, 2);
          paged_kv_cache paged(layout, 32, 16, 3, 64, seed);
          cpu_forward pf(m, paged, 2);
          // Scatter: a dummy sequence takes a block between a's blocks.
          REQUIRE(paged.admit(0, {}, 16));
          REQUIRE(paged.admit(2, {}, 1));
          REQUIRE(paged.grow(0, 45));

          // a in chunks of 13, alongside nothing; then b from its prefix hit.
          std::vector<float> want, got;
          batch b;
          for (int start = 0; start < 45; start += 13) {
            b.clear();
            for (int i = start; i < std::min(45, start + 13); ++i) b.add(a[i], i, 0, true);
            const auto lf = ff.decode(b);
            want.insert(want.end(), lf.begin(), lf.end());
            const auto lp = pf.decode(b);
            got.insert(got.end(), lp.begin(), lp.end());
            paged.commit(0, std::span(a).first(static_cast<std::size_t>(std::min(45, start + 13))));
          }
          CHECK(got == want);

          const prefix_hit hit = paged.find_prefix(bt);
          REQUIRE(hit.blocks.size() == 1);
          REQUIRE(paged.admit(1, hit, 30));
          b.clear();
          for (int i = 0; i < 30; ++i) b.add(bt[i], i, 1, i == 29);
          const auto lf = ff.decode(b);
          const std::vector<float> flat_last(lf.begin(), lf.end());
          b.clear();
          for (int i = 16; i < 30; ++i) b.add(bt[i], i, 1, i == 29);
          const auto lp = pf.decode(b);
          REQUIRE(static_cast<int64_t>(lp.size()) == nv);
          CHECK(normalized_error(lp, flat_last) < 1e-6);
          CHECK(argmax(lp) == argmax(flat_last));
        }
      }
    }
  }
}
