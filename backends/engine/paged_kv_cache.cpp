// paged_kv_cache: a fixed pool of KV blocks with prefix caching (vLLM's design, docs/kv-cache.md).
//
// Every block has a reference count: the number of sequence slots whose block table holds it.
// A block that is full and whose tokens are computed gets the chained hash of its prefix
// (h_i = block_hash(h_{i-1}, tokens of block i, seed)) and is entered in the hash -> block map;
// a later prompt with the same prefix finds it there and shares it (refs > 1) instead of
// recomputing it. At most one block is held per hash: when a sequence fills a block whose hash
// another block already holds, its own copy stays unhashed and is freed first.
//
// Blocks with refs == 0 sit in one free queue (a doubly linked list over block ids, so a hit can
// pull a block out of the middle in O(1)). Allocation takes the front. A released sequence's
// unhashed blocks go to the front (they hold nothing reusable), its hashed ones to the back in
// reverse order — tail first — so the least recently used prefixes are evicted first and, within
// one prefix, its tail before its head (a head block is shared by more future prompts). Taking a
// hashed block from the queue evicts it: its hash leaves the map (event `removed`).
#include "backends/engine/paged_kv_cache.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "backends/engine/block_hash.hpp"
#include "backends/engine/kv_events.hpp"

namespace laneway::engine {

std::size_t paged_kv_cache::block_bytes(const kv_layout& layout, int32_t block_size) {
  return 2 * static_cast<std::size_t>(layout.n_layer) * static_cast<std::size_t>(block_size) * layout.row_bytes();
}

paged_kv_cache::paged_kv_cache(const kv_layout& layout, int64_t n_blocks, int32_t block_size, int32_t n_seq,
                               int32_t max_positions, uint64_t hash_seed, kv_event_feed* events)
    : layout_(layout),
      n_blocks_(n_blocks),
      block_size_(block_size),
      max_pos_(max_positions),
      seed_(hash_seed),
      events_(events),
      row_bytes_(layout.row_bytes()) {
  if (layout.type != cpu::dtype::f32 && layout.type != cpu::dtype::f16) {
    throw std::invalid_argument("kv cache type must be f32 or f16");
  }
  if (layout.n_layer <= 0 || layout.row_values() <= 0) throw std::invalid_argument("kv cache layout must be positive");
  if (n_blocks <= 0 || n_blocks > (int64_t{1} << 30)) {
    throw std::invalid_argument("kv cache: block count must be in [1, 2^30], got " + std::to_string(n_blocks));
  }
  if (block_size <= 0 || n_seq <= 0 || max_positions <= 0) {
    throw std::invalid_argument("kv cache: block size, sequence slots and positions must be positive");
  }
  pool_bytes_ = static_cast<std::size_t>(layout.n_layer) * static_cast<std::size_t>(n_blocks) *
                static_cast<std::size_t>(block_size) * row_bytes_;
  // Uninitialized on purpose: a position is always written before it is read.
  k_ = std::make_unique_for_overwrite<std::byte[]>(pool_bytes_);
  v_ = std::make_unique_for_overwrite<std::byte[]>(pool_bytes_);
  blocks_.resize(static_cast<std::size_t>(n_blocks));
  tables_.resize(static_cast<std::size_t>(n_seq));
  slots_.resize(static_cast<std::size_t>(n_seq));
  for (int32_t b = 0; b < n_blocks; ++b) queue_push_back(b);
  n_free_ = n_blocks;
}

paged_kv_cache::~paged_kv_cache() = default;

void paged_kv_cache::check_slot(int32_t seq) const {
  if (seq < 0 || seq >= n_seq()) {
    throw std::length_error("kv cache: sequence id " + std::to_string(seq) + " outside [0, " +
                            std::to_string(n_seq()) + ")");
  }
}

// --- free queue -------------------------------------------------------------------------------

void paged_kv_cache::queue_push_back(int32_t block) {
  block_state& s = blocks_[block];
  s.prev = tail_, s.next = none;
  if (tail_ != none) blocks_[tail_].next = block;
  else head_ = block;
  tail_ = block;
}

void paged_kv_cache::queue_push_front(int32_t block) {
  block_state& s = blocks_[block];
  s.prev = none, s.next = head_;
  if (head_ != none) blocks_[head_].prev = block;
  else tail_ = block;
  head_ = block;
}

void paged_kv_cache::queue_remove(int32_t block) {
  block_state& s = blocks_[block];
  if (s.prev != none) blocks_[s.prev].next = s.next;
  else head_ = s.next;
  if (s.next != none) blocks_[s.next].prev = s.prev;
  else tail_ = s.prev;
  s.prev = s.next = none;
}

int32_t paged_kv_cache::take_free_block() {
  const int32_t block = head_;
  if (block == none) throw std::logic_error("kv cache: free queue empty");
  queue_remove(block);
  block_state& s = blocks_[block];
  if (s.hashed) {
    map_.erase(s.hash);
    if (events_) events_->removed(s.hash);
    s.hashed = false;
    --n_cached_free_;
    ++evictions_;
  }
  s.refs = 1;
  --n_free_;
  return block;
}

std::vector<int32_t> paged_kv_cache::free_queue() const {
  std::vector<int32_t> out;
  for (int32_t b = head_; b != none; b = blocks_[b].next) out.push_back(b);
  return out;
}

// --- sequences --------------------------------------------------------------------------------

int64_t paged_kv_cache::blocks_needed(int32_t seq, int32_t n_pos) const {
  const int64_t want = (static_cast<int64_t>(n_pos) + block_size_ - 1) / block_size_;
  const int64_t have = static_cast<int64_t>(tables_[seq].size());
  return want > have ? want - have : 0;
}

bool paged_kv_cache::grow(int32_t seq, int32_t n_pos) {
  check_slot(seq);
  if (n_pos > max_pos_) return false;
  const int64_t need = blocks_needed(seq, n_pos);
  if (need > n_free_) return false;
  for (int64_t i = 0; i < need; ++i) tables_[seq].push_back(take_free_block());
  return true;
}

void paged_kv_cache::reserve(int32_t seq, int32_t n_pos) {
  check_slot(seq);
  if (n_pos > max_pos_) {
    throw std::length_error("kv cache: sequence " + std::to_string(seq) + " needs " + std::to_string(n_pos) +
                            " positions, at most " + std::to_string(max_pos_));
  }
  if (!grow(seq, n_pos)) {
    throw std::length_error("kv cache: out of blocks (" + std::to_string(blocks_needed(seq, n_pos)) + " needed, " +
                            std::to_string(n_free_) + " free)");
  }
}

prefix_hit paged_kv_cache::find_prefix(std::span<const int32_t> tokens) const {
  prefix_hit hit;
  if (tokens.empty()) return hit;
  const std::size_t max_blocks = (tokens.size() - 1) / static_cast<std::size_t>(block_size_);
  uint64_t parent = 0;
  for (std::size_t i = 0; i < max_blocks; ++i) {
    parent = block_hash(parent, tokens.subspan(i * block_size_, block_size_), seed_);
    const auto it = map_.find(parent);
    if (it == map_.end()) break;
    hit.blocks.push_back(it->second);
    hit.hashes.push_back(parent);
  }
  return hit;
}

bool paged_kv_cache::admit(int32_t seq, const prefix_hit& hit, int32_t n_pos) {
  check_slot(seq);
  if (!tables_[seq].empty()) throw std::logic_error("kv cache: admit into a slot that holds blocks");
  const int64_t n_hit = static_cast<int64_t>(hit.blocks.size());
  if (n_pos > max_pos_ || n_hit * block_size_ > n_pos) return false;
  int64_t hits_in_queue = 0;
  for (std::size_t i = 0; i < hit.blocks.size(); ++i) {
    const block_state& s = blocks_[hit.blocks[i]];
    if (!s.hashed || s.hash != hit.hashes[i]) throw std::logic_error("kv cache: stale prefix hit");
    if (s.refs == 0) ++hits_in_queue;
  }
  const int64_t need = (static_cast<int64_t>(n_pos) + block_size_ - 1) / block_size_ - n_hit;
  if (need > n_free_ - hits_in_queue) return false;
  for (const int32_t b : hit.blocks) {
    block_state& s = blocks_[b];
    if (s.refs == 0) {
      queue_remove(b);
      --n_free_;
      --n_cached_free_;
    }
    ++s.refs;
    tables_[seq].push_back(b);
  }
  slots_[seq].n_hashed = static_cast<int32_t>(n_hit);
  slots_[seq].last_hash = n_hit > 0 ? hit.hashes.back() : 0;
  for (int64_t i = 0; i < need; ++i) tables_[seq].push_back(take_free_block());
  return true;
}

void paged_kv_cache::commit(int32_t seq, std::span<const int32_t> computed) {
  check_slot(seq);
  slot_state& slot = slots_[seq];
  const std::vector<int32_t>& table = tables_[seq];
  const std::size_t full = std::min(computed.size() / static_cast<std::size_t>(block_size_), table.size());
  for (std::size_t i = static_cast<std::size_t>(slot.n_hashed); i < full; ++i) {
    const uint64_t h = block_hash(slot.last_hash, computed.subspan(i * block_size_, block_size_), seed_);
    block_state& s = blocks_[table[i]];
    if (!s.hashed && map_.emplace(h, table[i]).second) {
      s.hash = h;
      s.hashed = true;
      if (events_) events_->stored(h);
    }
    slot.last_hash = h;
    slot.n_hashed = static_cast<int32_t>(i + 1);
  }
}

void paged_kv_cache::release(int32_t seq) {
  check_slot(seq);
  std::vector<int32_t>& table = tables_[seq];
  for (auto it = table.rbegin(); it != table.rend(); ++it) {
    block_state& s = blocks_[*it];
    if (--s.refs > 0) continue;
    if (s.hashed) {
      queue_push_back(*it);
      ++n_cached_free_;
    } else {
      queue_push_front(*it);
    }
    ++n_free_;
  }
  table.clear();
  slots_[seq] = {};
}

std::vector<uint64_t> paged_kv_cache::held_hashes() const {
  std::vector<uint64_t> out;
  out.reserve(map_.size());
  for (const auto& [h, b] : map_) out.push_back(h);
  return out;
}

}  // namespace laneway::engine
