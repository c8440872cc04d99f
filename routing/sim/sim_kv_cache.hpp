// The simulated node's KV cache: a pool of blocks with prefix caching as the laneway worker does
// it (docs/kv-cache.md) — hashed full blocks shared by reference count, free hashed blocks kept
// in an LRU queue (a sequence's tail queued before its head), allocation taking unhashed blocks
// first and then evicting the least recently used prefix. It reports stored / removed hashes,
// netted per step, like the worker's KV event feed, so the real precise_index can follow it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <span>
#include <unordered_map>
#include <vector>

#include "routing/prefix_index.hpp"

namespace laneway::routing::sim {

class sim_kv_cache {
 public:
  explicit sim_kv_cache(std::size_t blocks) : total_(blocks), free_plain_(blocks) {}

  // Leading hashes the cache holds (any refcount), at most `limit`.
  std::size_t leading(std::span<const block_hash> hashes, std::size_t limit) const;
  // Attaches the first `hits` hashes (which must be held) and allocates `fresh` private blocks,
  // all or nothing; false (nothing changed) when not enough blocks are free or evictable.
  bool admit(std::span<const block_hash> hashes, std::size_t hits, std::size_t fresh);
  // A private block of a sequence became full with hash `h`: it takes the hash unless another
  // block holds it already (then it stays private). true when it took the hash.
  bool commit(block_hash h);
  // A sequence ends: its hashed blocks (in sequence order) lose a reference, tail first into the
  // LRU queue; its private blocks become plain free blocks.
  void release(std::span<const block_hash> hashed, std::size_t private_blocks);

  std::size_t total_blocks() const { return total_; }
  std::size_t free_blocks() const { return free_plain_ + lru_.size(); }  // refs 0, cached included
  std::size_t cached_blocks() const { return map_.size(); }

  // The step's netted changes; clears them. stored and removed are disjoint.
  void take_events(std::vector<block_hash>& stored, std::vector<block_hash>& removed);
  // Every hash held (the snapshot a reconnecting gateway gets).
  std::vector<block_hash> snapshot() const;

 private:
  struct entry {
    int refs = 0;
    std::list<block_hash>::iterator in_lru;  // valid when refs == 0
  };
  void note(block_hash h, int delta);

  std::size_t total_;
  std::size_t free_plain_;                     // free blocks without a hash
  std::list<block_hash> lru_;                  // free hashed blocks, front = evicted first
  std::unordered_map<block_hash, entry> map_;  // every hashed block, referenced or free
  std::unordered_map<block_hash, int> pending_;  // +1 stored, −1 removed since take_events
};

// The worker's chain over token ids: h_i = XXH3_64bits_withSeed(u64le(h_{i-1}) || u32le(ids), seed).
std::vector<block_hash> token_block_hashes(std::span<const std::int32_t> tokens, std::size_t block_size,
                                           std::uint64_t seed);

}  // namespace laneway::routing::sim
