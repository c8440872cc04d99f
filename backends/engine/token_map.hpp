// Flat open-addressing hash tables for the tokenizer's hot lookups (text -> token id, merge pair
// -> rank and result). Linear probing over a power-of-two array of small entries: one cache line
// per probe instead of the pointer chase of std::unordered_map. Built once, then read-only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace laneway::engine {

using token_id = int32_t;

// Maps strings to token ids; the strings themselves live in the caller's `keys` (indexed by id),
// so an entry is just the id plus the hash.
class token_map {
 public:
  // keys[id] is token id's key; empty keys are skipped; a later id with an equal key wins.
  // `keys` must outlive the map and never reallocate (moving the vector is fine).
  void build(const std::vector<std::string>& keys);
  token_id find(std::string_view key) const;  // -1 when absent
  std::size_t size() const { return size_; }

 private:
  struct entry {
    uint64_t hash = 0;
    token_id id = -1;
  };
  std::vector<entry> slots_;
  const std::string* keys_ = nullptr;  // keys.data(): survives moving the vector that owns it
  uint64_t mask_ = 0;
  std::size_t size_ = 0;
};

// Maps a pair of token ids to the merge rank and the id of the merged token.
class merge_map {
 public:
  struct value {
    int32_t rank = -1;
    token_id result = -1;  // -1 when the merged text is not a token
  };
  void reserve(std::size_t n);
  void insert(token_id left, token_id right, value v);  // first insertion of a pair wins
  value find(token_id left, token_id right) const;
  std::size_t size() const { return size_; }

 private:
  struct entry {
    uint64_t key = ~0ull;  // (left << 32) | right; ~0 = empty
    value v;
  };
  void grow();
  std::vector<entry> slots_;
  uint64_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace laneway::engine
