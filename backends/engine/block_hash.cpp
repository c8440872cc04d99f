// Prefix-cache block hash chain; the definition is at the top of block_hash.hpp.
#include "backends/engine/block_hash.hpp"

#include <xxhash.h>

#include <cstring>

namespace laneway::engine {

namespace {

void put_le(unsigned char* p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

// Serializes parent || ids into `buf` (resized) and hashes it.
uint64_t hash_into(std::vector<unsigned char>& buf, uint64_t parent, std::span<const int32_t> block, uint64_t seed) {
  buf.resize(8 + 4 * block.size());
  put_le(buf.data(), parent, 8);
  for (std::size_t i = 0; i < block.size(); ++i) put_le(buf.data() + 8 + 4 * i, static_cast<uint32_t>(block[i]), 4);
  return XXH3_64bits_withSeed(buf.data(), buf.size(), seed);
}

}  // namespace

uint64_t block_hash(uint64_t parent, std::span<const int32_t> block, uint64_t seed) {
  std::vector<unsigned char> buf;
  return hash_into(buf, parent, block, seed);
}

std::vector<uint64_t> block_hashes(std::span<const int32_t> tokens, uint64_t seed, std::size_t block_size) {
  std::vector<uint64_t> out;
  if (block_size == 0) return out;
  out.reserve(tokens.size() / block_size);
  std::vector<unsigned char> buf;
  buf.reserve(8 + 4 * block_size);
  uint64_t parent = 0;
  for (std::size_t start = 0; start + block_size <= tokens.size(); start += block_size) {
    parent = hash_into(buf, parent, tokens.subspan(start, block_size), seed);
    out.push_back(parent);
  }
  return out;
}

}  // namespace laneway::engine
