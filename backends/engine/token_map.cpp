// token_map / merge_map: see token_map.hpp. Strings hash with XXH3 (fast on short keys); pair
// keys with a 64-bit multiplicative mix.
#include "backends/engine/token_map.hpp"

#include <xxhash.h>

#include <algorithm>
#include <bit>

namespace laneway::engine {

namespace {

uint64_t mix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return k;
}

std::size_t capacity_for(std::size_t n) { return std::bit_ceil(std::max<std::size_t>(16, n * 2)); }

}  // namespace

void token_map::build(const std::vector<std::string>& keys) {
  keys_ = keys.data();
  slots_.assign(capacity_for(keys.size()), entry{});
  mask_ = slots_.size() - 1;
  size_ = 0;
  for (std::size_t id = 0; id < keys.size(); ++id) {
    const std::string& k = keys[id];
    if (k.empty()) continue;
    const uint64_t h = XXH3_64bits(k.data(), k.size());
    for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
      entry& e = slots_[i];
      if (e.id < 0) {
        e = {h, static_cast<token_id>(id)};
        ++size_;
        break;
      }
      if (e.hash == h && keys[e.id] == k) {
        e.id = static_cast<token_id>(id);  // later id wins, as in the peer
        break;
      }
    }
  }
}

token_id token_map::find(std::string_view key) const {
  if (slots_.empty()) return -1;
  const uint64_t h = XXH3_64bits(key.data(), key.size());
  for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
    const entry& e = slots_[i];
    if (e.id < 0) return -1;
    if (e.hash == h && keys_[e.id] == key) return e.id;
  }
}

void merge_map::reserve(std::size_t n) {
  slots_.assign(capacity_for(n), entry{});
  mask_ = slots_.size() - 1;
  size_ = 0;
}

void merge_map::grow() {
  std::vector<entry> old;
  old.swap(slots_);
  reserve(old.size());  // capacity_for doubles
  for (const entry& e : old)
    if (e.key != ~0ull) insert(static_cast<token_id>(e.key >> 32), static_cast<token_id>(e.key & 0xffffffffu), e.v);
}

void merge_map::insert(token_id left, token_id right, value v) {
  if (slots_.empty() || (size_ + 1) * 2 > slots_.size()) grow();
  const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  for (uint64_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
    entry& e = slots_[i];
    if (e.key == ~0ull) {
      e = {key, v};
      ++size_;
      return;
    }
    if (e.key == key) return;  // first occurrence wins
  }
}

merge_map::value merge_map::find(token_id left, token_id right) const {
  if (slots_.empty()) return {};
  const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  for (uint64_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
    const entry& e = slots_[i];
    if (e.key == key) return e.v;
    if (e.key == ~0ull) return {};
  }
}

}  // namespace laneway::engine
