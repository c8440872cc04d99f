// The approximate prefix index: per node, an LRU list of the block hashes of prompts the gateway
// sent there, bounded per node and in total; and the byte-block hash chain used when the
// gateway knows no tokenizer for a node.
#include <xxhash.h>

#include <algorithm>

#include "routing/prefix_index.hpp"

namespace laneway::routing {

std::size_t approximate_index::limit(const node_entry& entry) const {
  return entry.capacity > 0 ? std::min(entry.capacity, max_blocks_per_node_) : max_blocks_per_node_;
}

void approximate_index::evict_one(node_entry& entry) {
  entry.where.erase(entry.lru.back());
  entry.lru.pop_back();
  --total_;
}

void approximate_index::set_capacity(node_id node, std::size_t blocks) {
  node_entry& entry = nodes_[node];
  entry.capacity = blocks;
  while (entry.lru.size() > limit(entry)) evict_one(entry);
}

void approximate_index::record(node_id node, std::span<const block_hash> hashes) {
  node_entry& entry = nodes_[node];
  const std::size_t per_node = limit(entry);
  // Tail first, so the prompt's head ends up most recent; beyond the node's limit only the head.
  const std::size_t n = std::min(hashes.size(), per_node);
  for (std::size_t k = n; k-- > 0;) {
    const block_hash h = hashes[k];
    if (auto it = entry.where.find(h); it != entry.where.end()) {
      entry.lru.splice(entry.lru.begin(), entry.lru, it->second);
      continue;
    }
    entry.lru.push_front(h);
    entry.where.emplace(h, entry.lru.begin());
    ++total_;
  }
  while (entry.lru.size() > per_node) evict_one(entry);

  const std::size_t global = std::max<std::size_t>(memory_bytes_ / bytes_per_entry, 1);
  while (total_ > global) {
    auto biggest = std::max_element(nodes_.begin(), nodes_.end(), [](const auto& a, const auto& b) {
      return a.second.lru.size() < b.second.lru.size();
    });
    evict_one(biggest->second);
  }
}

void approximate_index::drop_node(node_id node) {
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return;
  total_ -= it->second.lru.size();
  nodes_.erase(it);
}

std::size_t approximate_index::leading_blocks(node_id node, std::span<const block_hash> hashes) const {
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return 0;
  std::size_t n = 0;
  while (n < hashes.size() && it->second.where.contains(hashes[n])) ++n;
  return n;
}

std::size_t approximate_index::blocks(node_id node) const {
  auto it = nodes_.find(node);
  return it == nodes_.end() ? 0 : it->second.lru.size();
}

std::vector<block_hash> byte_block_hashes(std::string_view text, std::uint64_t seed, std::size_t block_bytes) {
  std::vector<block_hash> out;
  if (block_bytes == 0) return out;
  out.reserve(text.size() / block_bytes);
  std::vector<unsigned char> buf(8 + block_bytes);
  block_hash parent = 0;
  for (std::size_t at = 0; at + block_bytes <= text.size(); at += block_bytes) {
    for (int b = 0; b < 8; ++b) buf[b] = static_cast<unsigned char>(parent >> (8 * b));  // u64le(parent)
    std::copy_n(text.data() + at, block_bytes, buf.begin() + 8);
    parent = XXH3_64bits_withSeed(buf.data(), buf.size(), seed);
    out.push_back(parent);
  }
  return out;
}

std::uint64_t model_seed(std::string_view model) { return XXH3_64bits(model.data(), model.size()); }

}  // namespace laneway::routing
