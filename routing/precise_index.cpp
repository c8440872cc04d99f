// The precise prefix index: per node, the set of block hashes its KV cache holds, as the
// worker's event stream says (snapshot, then numbered batches). A node's answer for a request is
// how many of the request's hashes, from the first, are in its set.
#include "routing/prefix_index.hpp"

namespace laneway::routing {

void precise_index::insert_bounded(node_entry& entry, block_hash hash) {
  if (entry.hashes.size() >= max_blocks_per_node_ && !entry.hashes.contains(hash)) {
    ++blocks_dropped_;
    return;
  }
  entry.hashes.insert(hash);
}

void precise_index::apply_snapshot(node_id node, std::uint64_t seq, std::span<const block_hash> hashes) {
  node_entry& entry = nodes_[node];
  entry.hashes.clear();
  entry.hashes.reserve(std::min(hashes.size(), max_blocks_per_node_));
  for (auto h : hashes) insert_bounded(entry, h);
  entry.seq = seq;
  entry.synced = true;
}

batch_result precise_index::apply_batch(node_id node, std::uint64_t seq, std::span<const block_hash> stored,
                                        std::span<const block_hash> removed) {
  auto it = nodes_.find(node);
  if (it == nodes_.end() || !it->second.synced) return batch_result::gap;
  node_entry& entry = it->second;
  if (seq <= entry.seq) return batch_result::stale;
  if (seq != entry.seq + 1) return batch_result::gap;
  for (auto h : removed) entry.hashes.erase(h);
  for (auto h : stored) insert_bounded(entry, h);
  entry.seq = seq;
  return batch_result::applied;
}

void precise_index::drop_node(node_id node) { nodes_.erase(node); }

void precise_index::add_in_flight(node_id node, std::span<const block_hash> hashes) {
  node_entry& entry = nodes_[node];
  for (auto h : hashes) ++entry.in_flight[h];
}

void precise_index::remove_in_flight(node_id node, std::span<const block_hash> hashes) {
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return;  // dropped meanwhile: nothing left to remove
  auto& counts = it->second.in_flight;
  for (auto h : hashes) {
    auto c = counts.find(h);
    if (c != counts.end() && --c->second == 0) counts.erase(c);
  }
}

std::size_t precise_index::leading_blocks(node_id node, std::span<const block_hash> hashes) const {
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return 0;
  const node_entry& entry = it->second;
  std::size_t n = 0;
  while (n < hashes.size() && (entry.hashes.contains(hashes[n]) || entry.in_flight.contains(hashes[n]))) ++n;
  return n;
}

bool precise_index::holds(node_id node, block_hash hash) const {
  auto it = nodes_.find(node);
  return it != nodes_.end() && it->second.hashes.contains(hash);
}

bool precise_index::synced(node_id node) const {
  auto it = nodes_.find(node);
  return it != nodes_.end() && it->second.synced;
}

std::uint64_t precise_index::last_seq(node_id node) const {
  auto it = nodes_.find(node);
  return it == nodes_.end() ? 0 : it->second.seq;
}

std::size_t precise_index::blocks(node_id node) const {
  auto it = nodes_.find(node);
  return it == nodes_.end() ? 0 : it->second.hashes.size();
}

}  // namespace laneway::routing
