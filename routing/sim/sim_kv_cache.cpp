// Block accounting of the simulated KV cache and its netted event feed; the token hash chain.
#include "routing/sim/sim_kv_cache.hpp"

#include <xxhash.h>

namespace laneway::routing::sim {

std::size_t sim_kv_cache::leading(std::span<const block_hash> hashes, std::size_t limit) const {
  std::size_t n = 0;
  while (n < hashes.size() && n < limit && map_.contains(hashes[n])) ++n;
  return n;
}

void sim_kv_cache::note(block_hash h, int delta) {
  int& p = pending_[h];
  p += delta;
  if (p == 0) pending_.erase(h);
}

bool sim_kv_cache::admit(std::span<const block_hash> hashes, std::size_t hits, std::size_t fresh) {
  std::size_t hits_in_lru = 0;
  for (std::size_t i = 0; i < hits; ++i)
    if (map_.at(hashes[i]).refs == 0) ++hits_in_lru;
  if (free_plain_ + lru_.size() - hits_in_lru < fresh) return false;
  for (std::size_t i = 0; i < hits; ++i) {
    entry& e = map_.at(hashes[i]);
    if (e.refs++ == 0) lru_.erase(e.in_lru);
  }
  for (std::size_t k = 0; k < fresh; ++k) {
    if (free_plain_ > 0) {
      --free_plain_;
      continue;
    }
    const block_hash victim = lru_.front();  // least recently used prefix block
    lru_.pop_front();
    map_.erase(victim);
    note(victim, -1);
  }
  return true;
}

bool sim_kv_cache::commit(block_hash h) {
  if (map_.contains(h)) return false;
  map_.emplace(h, entry{1, {}});
  note(h, +1);
  return true;
}

void sim_kv_cache::release(std::span<const block_hash> hashed, std::size_t private_blocks) {
  for (std::size_t k = hashed.size(); k-- > 0;) {  // tail first: evicted before the head
    entry& e = map_.at(hashed[k]);
    if (--e.refs == 0) e.in_lru = lru_.insert(lru_.end(), hashed[k]);
  }
  free_plain_ += private_blocks;
}

void sim_kv_cache::take_events(std::vector<block_hash>& stored, std::vector<block_hash>& removed) {
  stored.clear();
  removed.clear();
  for (const auto& [h, delta] : pending_) (delta > 0 ? stored : removed).push_back(h);
  pending_.clear();
}

std::vector<block_hash> sim_kv_cache::snapshot() const {
  std::vector<block_hash> out;
  out.reserve(map_.size());
  for (const auto& [h, e] : map_) out.push_back(h);
  return out;
}

std::vector<block_hash> token_block_hashes(std::span<const std::int32_t> tokens, std::size_t block_size,
                                           std::uint64_t seed) {
  std::vector<block_hash> out;
  std::vector<unsigned char> buf(8 + 4 * block_size);
  block_hash parent = 0;
  for (std::size_t at = 0; at + block_size <= tokens.size(); at += block_size) {
    for (int b = 0; b < 8; ++b) buf[b] = static_cast<unsigned char>(parent >> (8 * b));
    for (std::size_t i = 0; i < block_size; ++i)
      for (int b = 0; b < 4; ++b)
        buf[8 + 4 * i + b] = static_cast<unsigned char>(std::uint32_t(tokens[at + i]) >> (8 * b));
    parent = XXH3_64bits_withSeed(buf.data(), buf.size(), seed);
    out.push_back(parent);
  }
  return out;
}

}  // namespace laneway::routing::sim
