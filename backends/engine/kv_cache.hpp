// Where the forward pass keeps each sequence's keys and values. The interface is what a paged
// cache (fixed-size blocks, block tables, shared prefixes) needs to implement: storage for the
// positions [0, n) of a sequence, the K or V row of (layer, sequence, position), and how many
// positions from a given one lie contiguously in memory, so attention can walk a sequence in runs
// (a contiguous cache: one run; a paged one: one run per block).
//
// A row is the n_head_kv * head_dim values of one position in one layer, f32 or f16; within a run
// rows are row_bytes() apart. Sequence ids are small integers in [0, n_seq()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "backends/cpu/quant_types.hpp"

namespace laneway::engine {

struct kv_layout {
  int64_t n_layer = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;
  cpu::dtype type = cpu::dtype::f32;  // f32 or f16

  int64_t row_values() const { return n_head_kv * head_dim; }
  std::size_t row_bytes() const { return static_cast<std::size_t>(row_values()) * (type == cpu::dtype::f16 ? 2 : 4); }
};

class kv_cache {
 public:
  virtual ~kv_cache() = default;

  virtual const kv_layout& layout() const = 0;
  virtual int32_t n_seq() const = 0;          // sequence ids are 0 .. n_seq()-1
  virtual int32_t max_positions() const = 0;  // per sequence

  // Make sure positions [0, n_pos) of `seq` have storage. Throws std::length_error when the
  // cache cannot hold them (n_pos > max_positions(), or a paged cache out of blocks).
  virtual void reserve(int32_t seq, int32_t n_pos) = 0;
  // Forget `seq` (its storage may be reused); its positions must be written again before use.
  virtual void clear(int32_t seq) = 0;

  // The K / V row of (layer, seq, pos); precondition: pos < the reserved length of seq.
  virtual std::byte* k_row(int64_t layer, int32_t seq, int32_t pos) = 0;
  virtual std::byte* v_row(int64_t layer, int32_t seq, int32_t pos) = 0;
  // How many positions starting at `pos` (at most `limit`) are stored one after another, so that
  // k_row(l, seq, pos + i) == k_row(l, seq, pos) + i * row_bytes() for i < the result (same for v).
  virtual int32_t contiguous_run(int32_t seq, int32_t pos, int32_t limit) const = 0;

  // Where rows live in the storage, for a backend that keeps K/V in its own (device) memory with
  // this same layout and lets the engine go on owning blocks, sharing and eviction: the K (and V)
  // storage of a layer is layer_rows() rows, and (layer, seq, pos) is row row_index(seq, pos) of
  // its layer (k_row(l, s, p) == k_row(l, s', p') + (row_index(s, p) - row_index(s', p')) * row_bytes()).
  virtual int64_t layer_rows() const = 0;
  virtual int64_t row_index(int32_t seq, int32_t pos) const = 0;
};

// One slab per sequence slot: [n_layer][n_seq][max_positions][row] for K and for V. Simple,
// no sharing; reserve() only checks the bound.
class contiguous_kv_cache final : public kv_cache {
 public:
  // type: f32 or f16 (throws std::invalid_argument otherwise). Memory: 2 * n_layer * n_seq *
  // max_positions * row_bytes, allocated up front.
  contiguous_kv_cache(const kv_layout& layout, int32_t n_seq, int32_t max_positions);

  const kv_layout& layout() const override { return layout_; }
  int32_t n_seq() const override { return n_seq_; }
  int32_t max_positions() const override { return max_pos_; }
  void reserve(int32_t seq, int32_t n_pos) override;
  void clear(int32_t) override {}
  std::byte* k_row(int64_t layer, int32_t seq, int32_t pos) override { return k_.data() + offset(layer, seq, pos); }
  std::byte* v_row(int64_t layer, int32_t seq, int32_t pos) override { return v_.data() + offset(layer, seq, pos); }
  int32_t contiguous_run(int32_t, int32_t pos, int32_t limit) const override {
    return limit < max_pos_ - pos ? limit : max_pos_ - pos;
  }
  int64_t layer_rows() const override { return int64_t{n_seq_} * max_pos_; }
  int64_t row_index(int32_t seq, int32_t pos) const override { return int64_t{seq} * max_pos_ + pos; }
  std::size_t bytes() const { return k_.size() + v_.size(); }

 private:
  std::size_t offset(int64_t layer, int32_t seq, int32_t pos) const {
    return ((static_cast<std::size_t>(layer) * n_seq_ + seq) * max_pos_ + pos) * row_bytes_;
  }

  kv_layout layout_;
  int32_t n_seq_;
  int32_t max_pos_;
  std::size_t row_bytes_;
  std::vector<std::byte> k_, v_;
};

}  // namespace laneway::engine
