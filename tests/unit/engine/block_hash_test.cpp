// Block hashes: pinned values (an accidental change to the chain breaks routing between
// versions), chaining, and only full blocks.
#include <doctest/doctest.h>

#include <numeric>
#include <vector>

#include "backends/engine/block_hash.hpp"

using namespace laneway::engine;

TEST_SUITE("engine") {
  TEST_CASE("block hash: pinned values and chain") {
    std::vector<int32_t> tokens(40);
    std::iota(tokens.begin(), tokens.end(), 1);  // 1..40
    const uint64_t seed = 0x5eed;
    const auto hashes = block_hashes(tokens, seed);
    REQUIRE(hashes.size() == 2);  // 40 tokens: two full blocks of 16, the last 8 are not hashed
    CHECK(hashes[0] == block_hash(0, std::span(tokens).subspan(0, 16), seed));
    CHECK(hashes[1] == block_hash(hashes[0], std::span(tokens).subspan(16, 16), seed));
    // Pinned: XXH3_64bits_withSeed over u64le(parent) || u32le(ids), seed 0x5eed.
    CHECK(hashes[0] == 0x714bb8f2713ba170ULL);
    CHECK(hashes[1] == 0xe0adceeaf29b7bdfULL);
  }

  TEST_CASE("block hash: prefix property and sensitivity") {
    std::vector<int32_t> a(64, 7), b(64, 7);
    b[40] = 8;  // differs in block 2
    const auto ha = block_hashes(a, 1), hb = block_hashes(b, 1);
    REQUIRE(ha.size() == 4);
    CHECK(ha[0] == hb[0]);
    CHECK(ha[1] == hb[1]);
    CHECK(ha[2] != hb[2]);
    CHECK(ha[3] != hb[3]);  // everything after a difference differs: the hash names the prefix
    CHECK(block_hashes(a, 2)[0] != ha[0]);  // the seed (tokenizer identity) matters
    CHECK(block_hashes(std::vector<int32_t>(15, 1), 1).empty());
    CHECK(block_hashes(a, 1, 32).size() == 2);
    CHECK(block_hashes(a, 1, 0).empty());
  }
}
