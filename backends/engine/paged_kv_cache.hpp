// The worker's KV cache: one pool of fixed-size blocks allocated at start-up (memory never grows),
// a block table per sequence slot, and prefix caching over the block-hash chain (block_hash.hpp).
// The algorithm (reference counts, the LRU free queue, eviction, events) is described at the top
// of paged_kv_cache.cpp and in docs/kv-cache.md.
//
// Single-threaded: the scheduler thread owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "backends/engine/kv_cache.hpp"

namespace laneway::engine {

class kv_event_feed;

// Cached blocks that hold the first full blocks of a prompt, found by paged_kv_cache::find_prefix.
// Valid until the cache is next changed (attach it with admit() right away).
struct prefix_hit {
  std::vector<int32_t> blocks;   // block ids, in prompt order
  std::vector<uint64_t> hashes;  // their chained hashes
  int32_t tokens(int32_t block_size) const { return static_cast<int32_t>(blocks.size()) * block_size; }
};

struct kv_block_counts {
  int64_t total = 0;
  int64_t free = 0;    // not referenced by any sequence (includes cached)
  int64_t cached = 0;  // free and still holding a hashed block (reusable on a prefix hit)
};

class paged_kv_cache final : public kv_cache {
 public:
  // Pool of n_blocks blocks of block_size positions, K and V for every layer; n_seq sequence slots
  // of at most max_positions positions. `events` (may be null) receives stored/removed hashes; the
  // caller publishes them. Throws std::invalid_argument on a bad layout or size.
  paged_kv_cache(const kv_layout& layout, int64_t n_blocks, int32_t block_size, int32_t n_seq,
                 int32_t max_positions, uint64_t hash_seed, kv_event_feed* events = nullptr);
  ~paged_kv_cache() override;

  // Bytes of one block (K and V of every layer): the unit --kv-memory is divided by.
  static std::size_t block_bytes(const kv_layout& layout, int32_t block_size);

  // kv_cache. reserve() allocates the blocks that are missing (throws std::length_error when the
  // pool has too few free blocks); clear() is release().
  const kv_layout& layout() const override { return layout_; }
  int32_t n_seq() const override { return static_cast<int32_t>(tables_.size()); }
  int32_t max_positions() const override { return max_pos_; }
  void reserve(int32_t seq, int32_t n_pos) override;
  void clear(int32_t seq) override { release(seq); }
  std::byte* k_row(int64_t layer, int32_t seq, int32_t pos) override { return k_.get() + offset(layer, seq, pos); }
  std::byte* v_row(int64_t layer, int32_t seq, int32_t pos) override { return v_.get() + offset(layer, seq, pos); }
  // The rest of pos's block (at most limit).
  int32_t contiguous_run(int32_t, int32_t pos, int32_t limit) const override {
    const int32_t rest = block_size_ - pos % block_size_;
    return limit < rest ? limit : rest;
  }
  int64_t layer_rows() const override { return n_blocks_ * block_size_; }
  int64_t row_index(int32_t seq, int32_t pos) const override {
    return int64_t{tables_[seq][pos / block_size_]} * block_size_ + pos % block_size_;
  }

  // Prefix caching. find_prefix: the longest run of leading full blocks of `tokens` that are
  // cached, never covering the last token (its logits must be computed). admit: attach `hit` to
  // the empty slot `seq` and allocate blocks up to n_pos positions; all or nothing (false: not
  // enough free blocks, nothing changed).
  prefix_hit find_prefix(std::span<const int32_t> tokens) const;
  bool admit(int32_t seq, const prefix_hit& hit, int32_t n_pos);
  // Allocates blocks so seq holds n_pos positions; all or nothing.
  bool grow(int32_t seq, int32_t n_pos);
  // New blocks seq needs to hold n_pos positions (0 when it has them).
  int64_t blocks_needed(int32_t seq, int32_t n_pos) const;
  // Hashes seq's blocks that became full: `computed` is the tokens whose K/V are now written
  // (the sequence's first computed.size() tokens). A hash already held by another block is kept
  // there (this block stays unhashed); otherwise the block is stored under it (event `stored`).
  void commit(int32_t seq, std::span<const int32_t> computed);
  // Drops seq's references. Blocks no longer referenced go to the free queue, the sequence's tail
  // before its head (so the tail is evicted first); unhashed ones ahead of every cached block.
  void release(int32_t seq);

  int32_t block_size() const { return block_size_; }
  uint64_t hash_seed() const { return seed_; }
  int64_t blocks_of(int32_t seq) const { return static_cast<int64_t>(tables_[seq].size()); }
  int32_t block_at(int32_t seq, int32_t index) const { return tables_[seq][index]; }
  kv_block_counts counts() const { return {n_blocks_, n_free_, n_cached_free_}; }
  int32_t ref_count(int32_t block) const { return blocks_[block].refs; }
  bool is_cached(int32_t block) const { return blocks_[block].hashed; }
  // Every hash now held (the keys of the hash -> block map), unordered.
  std::vector<uint64_t> held_hashes() const;
  // The free queue front (next evicted) to back; for tests and debugging.
  std::vector<int32_t> free_queue() const;
  uint64_t evictions() const { return evictions_; }  // cached blocks reused for other content
  std::size_t bytes() const { return 2 * pool_bytes_; }

 private:
  static constexpr int32_t none = -1;
  struct block_state {
    uint64_t hash = 0;
    int32_t refs = 0;
    bool hashed = false;   // holds `hash` in map_
    int32_t prev = none;   // free-queue links (valid while refs == 0)
    int32_t next = none;
  };
  struct slot_state {
    int32_t n_hashed = 0;  // leading blocks whose chain hash is known
    uint64_t last_hash = 0;
  };

  std::size_t offset(int64_t layer, int32_t seq, int32_t pos) const {
    const int32_t block = tables_[seq][pos / block_size_];
    return ((static_cast<std::size_t>(layer) * n_blocks_ + block) * block_size_ + pos % block_size_) * row_bytes_;
  }
  int32_t take_free_block();            // front of the free queue; evicts its hash
  void queue_push_back(int32_t block);
  void queue_push_front(int32_t block);
  void queue_remove(int32_t block);
  void check_slot(int32_t seq) const;

  kv_layout layout_;
  int64_t n_blocks_;
  int32_t block_size_;
  int32_t max_pos_;
  uint64_t seed_;
  kv_event_feed* events_;
  std::size_t row_bytes_;
  std::size_t pool_bytes_;
  std::unique_ptr<std::byte[]> k_, v_;  // [n_layer][n_blocks][block_size][row]

  std::vector<block_state> blocks_;
  std::vector<std::vector<int32_t>> tables_;  // per slot: block ids of positions 0, B, 2B, ...
  std::vector<slot_state> slots_;
  std::unordered_map<uint64_t, int32_t> map_;  // hash -> block
  int32_t head_ = none, tail_ = none;          // free queue: head evicted first
  int64_t n_free_ = 0;
  int64_t n_cached_free_ = 0;
  uint64_t evictions_ = 0;
};

}  // namespace laneway::engine
