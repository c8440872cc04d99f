// Prefix-cache block hashes, shared by the worker (which caches KV blocks under them) and the
// gateway (which routes a prompt to the node that already holds its prefix). Fixed and
// documented, so both sides compute the same values from the same token ids:
//
//   blocks:  the prompt's token ids cut into blocks of B (default 16); only full blocks hash.
//   chain:   h_0 = XXH3_64bits_withSeed(u64le(0)         || u32le(ids of block 0), seed)
//            h_i = XXH3_64bits_withSeed(u64le(h_{i-1})   || u32le(ids of block i), seed)
//            so h_i names the whole prefix up to the end of block i, not just the block.
//   seed:    the tokenizer's fingerprint (tokenizer::fingerprint(): XXH3_64bits over
//            "laneway.tokenizer.v1", tokenizer.ggml.model, tokenizer.ggml.pre, each token's text
//            and type, each merge, every string followed by a NUL byte). Different tokenizers
//            give different seeds; models sharing a tokenizer share hashes, so a prefix index
//            must also be keyed by model name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace laneway::engine {

constexpr std::size_t default_block_size = 16;

// Hash of one block given its parent's hash (0 for the first block). block.size() is B.
uint64_t block_hash(uint64_t parent, std::span<const int32_t> block, uint64_t seed);

// Hashes of every full block of `tokens`, in order (tokens.size() / block_size of them).
std::vector<uint64_t> block_hashes(std::span<const int32_t> tokens, uint64_t seed,
                                   std::size_t block_size = default_block_size);

}  // namespace laneway::engine
