// Prefix indexes: leading-block matches, the precise index's snapshot/batch sequencing and
// resync, drop, bounds; the approximate index's LRU, capacity and memory cap; byte-block hashes.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "routing/prefix_index.hpp"

using namespace laneway::routing;

TEST_SUITE("routing") {
  TEST_CASE("precise: leading blocks count consecutive hits from the start") {
    precise_index index;
    const std::vector<block_hash> held = {10, 11, 12, 20, 31};
    index.apply_snapshot(1, 0, held);
    struct row {
      std::vector<block_hash> request;
      std::size_t expected;
    };
    const row table[] = {{{10, 11, 12, 13}, 3}, {{10, 11, 12}, 3}, {{11, 12}, 2}, {{13, 10, 11}, 0},
                         {{10, 99, 12}, 1},     {{}, 0},            {{20, 31, 10}, 3}};
    for (const auto& r : table) CHECK(index.leading_blocks(1, r.request) == r.expected);
    CHECK(index.leading_blocks(2, std::vector<block_hash>{10}) == 0);  // unknown node
  }

  TEST_CASE("precise: batches apply in order; stale ones are ignored, gaps ask for a snapshot") {
    precise_index index;
    const std::vector<block_hash> none, a = {1, 2}, b = {3}, one = {1};
    CHECK(index.apply_batch(7, 1, a, none) == batch_result::gap);  // no snapshot yet
    CHECK_FALSE(index.synced(7));
    index.apply_snapshot(7, 4, a);
    CHECK(index.synced(7));
    CHECK(index.apply_batch(7, 4, b, none) == batch_result::stale);
    CHECK(index.apply_batch(7, 5, b, one) == batch_result::applied);
    CHECK(index.blocks(7) == 2);
    CHECK_FALSE(index.holds(7, 1));
    CHECK(index.holds(7, 3));
    CHECK(index.apply_batch(7, 7, a, none) == batch_result::gap);
    CHECK(index.last_seq(7) == 5);
    CHECK_FALSE(index.holds(7, 1));  // the gapped batch changed nothing

    SUBCASE("resync by snapshot replaces the set") {
      const std::vector<block_hash> fresh = {8, 9};
      index.apply_snapshot(7, 9, fresh);
      CHECK(index.blocks(7) == 2);
      CHECK_FALSE(index.holds(7, 3));
      CHECK(index.apply_batch(7, 10, a, none) == batch_result::applied);
    }
    SUBCASE("dropping the node forgets its entries and its sequence") {
      index.drop_node(7);
      CHECK(index.blocks(7) == 0);
      CHECK_FALSE(index.synced(7));
      CHECK(index.apply_batch(7, 6, a, none) == batch_result::gap);
    }
  }

  TEST_CASE("precise: prompts in prefill count as held until their first token") {
    precise_index index;
    index.apply_snapshot(0, 0, std::vector<block_hash>{1});
    const std::vector<block_hash> p = {1, 2, 3};
    CHECK(index.leading_blocks(0, p) == 1);
    index.add_in_flight(0, p);
    index.add_in_flight(0, p);
    CHECK(index.leading_blocks(0, p) == 3);
    index.remove_in_flight(0, p);
    CHECK(index.leading_blocks(0, p) == 3);  // the second one still computes them
    index.remove_in_flight(0, p);
    CHECK(index.leading_blocks(0, p) == 1);
    index.add_in_flight(0, p);
    index.apply_snapshot(0, 5, std::vector<block_hash>{});  // a resync keeps what is in flight
    CHECK(index.leading_blocks(0, p) == 3);
  }

  TEST_CASE("precise: nodes are independent and the per-node bound holds") {
    precise_index index(3);
    const std::vector<block_hash> many = {1, 2, 3, 4, 5}, none;
    index.apply_snapshot(1, 0, many);
    CHECK(index.blocks(1) == 3);
    CHECK(index.blocks_dropped() == 2);
    index.apply_snapshot(2, 0, std::vector<block_hash>{1});
    CHECK(index.apply_batch(2, 1, std::vector<block_hash>{2, 3, 4}, none) == batch_result::applied);
    CHECK(index.blocks(2) == 3);
    index.drop_node(1);
    CHECK(index.holds(2, 1));
  }

  TEST_CASE("approximate: records what was sent, matches leading blocks, evicts least recent first") {
    approximate_index index(1u << 20, 6);
    const std::vector<block_hash> p = {1, 2, 3, 4}, q = {1, 2, 7, 8};
    index.record(0, p);
    CHECK(index.leading_blocks(0, q) == 2);
    CHECK(index.leading_blocks(1, q) == 0);
    index.record(0, q);  // 6 distinct now: 1 2 7 8 3 4 (front = most recent)
    CHECK(index.blocks(0) == 6);
    index.record(0, std::vector<block_hash>{9});  // evicts 4, p's tail
    CHECK(index.leading_blocks(0, p) == 3);
    CHECK(index.leading_blocks(0, q) == 4);
    index.record(0, std::vector<block_hash>{10, 11});  // evicts 3 then 8: tails before heads
    CHECK(index.leading_blocks(0, p) == 2);
    CHECK(index.leading_blocks(0, q) == 3);
  }

  TEST_CASE("approximate: the node's KV capacity bounds its set; a long prompt keeps its head") {
    approximate_index index(1u << 20, 100);
    index.set_capacity(3, 4);
    std::vector<block_hash> longp;
    for (block_hash h = 100; h < 110; ++h) longp.push_back(h);
    index.record(3, longp);
    CHECK(index.blocks(3) == 4);
    CHECK(index.leading_blocks(3, longp) == 4);
    index.set_capacity(3, 2);
    CHECK(index.blocks(3) == 2);
    CHECK(index.leading_blocks(3, longp) == 2);
  }

  TEST_CASE("approximate: the memory cap evicts from the largest node") {
    approximate_index index(approximate_index::bytes_per_entry * 10, 100);
    std::vector<block_hash> big, small = {500, 501};
    for (block_hash h = 0; h < 9; ++h) big.push_back(h);
    index.record(0, big);
    index.record(1, small);
    CHECK(index.total_blocks() == 10);
    CHECK(index.blocks(0) == 8);
    CHECK(index.blocks(1) == 2);
    CHECK(index.leading_blocks(0, big) == 8);
    index.drop_node(0);
    CHECK(index.total_blocks() == 2);
  }

  TEST_CASE("byte blocks: full blocks only, chained, seeded per model") {
    const std::string text(200, 'x');
    auto h = byte_block_hashes(text, model_seed("m"), 64);
    CHECK(h.size() == 3);
    CHECK(h[0] != h[1]);  // same bytes, different parents
    CHECK(byte_block_hashes(text.substr(0, 130), model_seed("m"), 64) == std::vector<block_hash>(h.begin(), h.begin() + 2));
    CHECK(byte_block_hashes(text, model_seed("other"), 64)[0] != h[0]);
    std::string changed = text;
    changed[70] = 'y';  // block 1 changes, and with it every later hash
    auto c = byte_block_hashes(changed, model_seed("m"), 64);
    CHECK(c[0] == h[0]);
    CHECK(c[1] != h[1]);
    CHECK(c[2] != h[2]);
    CHECK(byte_block_hashes("short", 1, 64).empty());
    CHECK(byte_block_hashes(text, 1, 0).empty());
  }
}
