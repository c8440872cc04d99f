// contiguous_kv_cache: one fixed slab per sequence slot (see kv_cache.hpp).
#include "backends/engine/kv_cache.hpp"

#include <stdexcept>
#include <string>

namespace laneway::engine {

contiguous_kv_cache::contiguous_kv_cache(const kv_layout& layout, int32_t n_seq, int32_t max_positions)
    : layout_(layout), n_seq_(n_seq), max_pos_(max_positions), row_bytes_(layout.row_bytes()) {
  if (layout.type != cpu::dtype::f32 && layout.type != cpu::dtype::f16) {
    throw std::invalid_argument("kv cache type must be f32 or f16");
  }
  if (n_seq <= 0 || max_positions <= 0 || layout.n_layer <= 0 || layout.row_values() <= 0) {
    throw std::invalid_argument("kv cache dimensions must be positive");
  }
  const std::size_t n = static_cast<std::size_t>(layout.n_layer) * n_seq * max_positions * row_bytes_;
  k_.resize(n);
  v_.resize(n);
}

void contiguous_kv_cache::reserve(int32_t seq, int32_t n_pos) {
  if (seq < 0 || seq >= n_seq_) {
    throw std::length_error("kv cache: sequence id " + std::to_string(seq) + " outside [0, " +
                            std::to_string(n_seq_) + ")");
  }
  if (n_pos > max_pos_) {
    throw std::length_error("kv cache: sequence " + std::to_string(seq) + " needs " + std::to_string(n_pos) +
                            " positions, the cache holds " + std::to_string(max_pos_));
  }
}

}  // namespace laneway::engine
