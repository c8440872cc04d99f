// Which nodes hold which prompt prefixes, as chains of block hashes (h_i names the whole prefix up
// to the end of block i; docs/kv-cache.md). The one question asked: for a request's block-hash
// list, how many leading blocks (consecutive from the start) does node n hold?
//
// precise_index: fed by a laneway worker's GET /v1/kv/events (snapshot on connect, then stored /
//   removed batches numbered 1, 2, ...). Kept as one hash set per node, so a node's answer,
//   resync and drop cost only that node's entries. Bound: at most `max_blocks_per_node` hashes per
//   node (a worker holds at most its kv_blocks_total; extras beyond the bound are not indexed).
// approximate_index: for nodes that publish nothing, the blocks of prompts the gateway sent
//   there, most recently sent first, evicted least-recently-used. Bound: per node the smaller of
//   `max_blocks_per_node` and the node's KV capacity in blocks when known, and in total
//   `memory_bytes` (≈ bytes_per_entry each), evicting from the node with the most entries.
//
// Node ids are the caller's stable small integers (the gateway's, kept across config reloads by
// node name). Hashes depend on the tokenizer (seed) and block size, so a gateway keys nodes of
// different models or tokenizers apart by giving them different hash lists; not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <list>
#include <span>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace laneway::routing {

using node_id = std::uint32_t;
using block_hash = std::uint64_t;

// What applying one event batch did.
enum class batch_result {
  applied,  // seq was the next one: the node's set is now as of `seq`
  stale,    // seq <= the last applied one (a replay after reconnect): ignored
  gap,      // seq skips batches (or no snapshot yet): ignored; take a snapshot and resync
};

class precise_index {
 public:
  explicit precise_index(std::size_t max_blocks_per_node = 1u << 20) : max_blocks_per_node_(max_blocks_per_node) {}

  // Replaces the node's set by a snapshot taken as of batch `seq` (0: before any batch).
  void apply_snapshot(node_id node, std::uint64_t seq, std::span<const block_hash> hashes);
  // One batch from the event stream; stored and removed are disjoint (the worker nets them).
  batch_result apply_batch(node_id node, std::uint64_t seq, std::span<const block_hash> stored,
                           std::span<const block_hash> removed);
  // Forgets the node (ejected, removed from config, or its stream lost before a resync).
  void drop_node(node_id node);

  // Prompts sent to the node whose prefill has not finished yet: their blocks will be stored in
  // a moment, so requests sharing them count them as held (else a burst for a new prefix looks
  // uncached everywhere and spreads over every node). Reference-counted; remove once per add, when
  // the first token arrives or, at the latest, when the request ends or fails (a running sequence
  // keeps its prompt blocks referenced, so counting them until the end is exact; the gateway does
  // that, as it cannot see a stream's first token apart from its head). Bound: the blocks of the
  // requests in flight.
  void add_in_flight(node_id node, std::span<const block_hash> hashes);
  void remove_in_flight(node_id node, std::span<const block_hash> hashes);

  // Leading blocks of `hashes` the node holds or is computing (in flight); 0 for an unknown node.
  std::size_t leading_blocks(node_id node, std::span<const block_hash> hashes) const;
  bool holds(node_id node, block_hash hash) const;
  // True once a snapshot was applied and the node not dropped since (else: resync needed).
  bool synced(node_id node) const;
  std::uint64_t last_seq(node_id node) const;   // 0 for an unknown node
  std::size_t blocks(node_id node) const;       // hashes indexed for the node
  std::size_t blocks_dropped() const { return blocks_dropped_; }  // hashes not indexed because of the bound

 private:
  struct node_entry {
    std::unordered_set<block_hash> hashes;
    std::uint64_t seq = 0;       // last batch applied (or the snapshot's)
    bool synced = false;         // a snapshot was applied
    std::unordered_map<block_hash, int> in_flight;  // hash -> prompts in prefill carrying it
  };
  void insert_bounded(node_entry& entry, block_hash hash);

  std::size_t max_blocks_per_node_;
  std::unordered_map<node_id, node_entry> nodes_;
  std::size_t blocks_dropped_ = 0;
};

class approximate_index {
 public:
  // Memory one indexed block costs, map node and list node together (used for memory_bytes).
  static constexpr std::size_t bytes_per_entry = 96;

  explicit approximate_index(std::size_t memory_bytes = 64u << 20, std::size_t max_blocks_per_node = 1u << 18)
      : memory_bytes_(memory_bytes), max_blocks_per_node_(max_blocks_per_node) {}

  // The node's KV capacity in blocks when it is known (0 = unknown): its set never exceeds it,
  // since the node itself would have evicted the older blocks by then.
  void set_capacity(node_id node, std::size_t blocks);
  // The request with these block hashes was sent to `node`: they become its most recent,
  // the head of the prompt most recent of all (nodes evict a prompt's tail before its head).
  void record(node_id node, std::span<const block_hash> hashes);
  void drop_node(node_id node);

  std::size_t leading_blocks(node_id node, std::span<const block_hash> hashes) const;
  std::size_t blocks(node_id node) const;
  std::size_t total_blocks() const { return total_; }

 private:
  struct node_entry {
    std::list<block_hash> lru;  // front = most recent
    std::unordered_map<block_hash, std::list<block_hash>::iterator> where;
    std::size_t capacity = 0;   // 0 = unknown
  };
  std::size_t limit(const node_entry& entry) const;
  void evict_one(node_entry& entry);

  std::size_t memory_bytes_;
  std::size_t max_blocks_per_node_;
  std::unordered_map<node_id, node_entry> nodes_;
  std::size_t total_ = 0;
};

// Byte blocks for backends whose tokenizer the gateway does not know: the prompt text cut into
// blocks of `block_bytes` bytes, chained as the worker chains token blocks:
//   h_0 = XXH3_64bits_withSeed(u64le(0) || bytes of block 0, seed), h_i = ...(u64le(h_{i-1}) || ...)
// Only full blocks hash. Use a seed per model (e.g. model_seed(name)) so models do not share.
std::vector<block_hash> byte_block_hashes(std::string_view text, std::uint64_t seed, std::size_t block_bytes = 64);
std::uint64_t model_seed(std::string_view model);  // XXH3_64bits of the model name

}  // namespace laneway::routing
