// Internal: the per-ISA kernel sets behind matmul(). Each set holds one dot product per weight
// type: a weight row (n values in the weight's own layout) against an activation row in the
// format activation_type() picks for that weight (f32 for float weights, Q8_0 or Q8_K otherwise).
#pragma once

#include <cstddef>
#include <cstdint>

#include "backends/cpu/quant_types.hpp"

namespace laneway::cpu::detail {

// w: one row of n values (weight layout), x: one row of n values (activation layout) -> dot
using vec_dot_fn = float (*)(int64_t n, const void* w, const void* x);

// A tile of tile_rows weight rows against tile_tokens activation rows at once (prefill: each
// loaded block is used several times). w: tile_rows rows, w_stride bytes apart; x: tile_tokens
// rows, x_stride bytes apart; y[t * ldy + r] = dot(w row r, x row t).
using dot_tile_fn = void (*)(int64_t n, const void* w, size_t w_stride, const void* x,
                             size_t x_stride, float* y, int64_t ldy);

struct kernel_set {
  const char* name;
  vec_dot_fn f32, f16, bf16, q4_0, q8_0, q4_k, q5_k, q6_k;
  dot_tile_fn q8_0_tile = nullptr, q4_0_tile = nullptr;  // optional
  int tile_rows = 0, tile_tokens = 0;

  vec_dot_fn dot_for(dtype t) const {
    switch (t) {
      case dtype::f32: return f32;
      case dtype::f16: return f16;
      case dtype::bf16: return bf16;
      case dtype::q4_0: return q4_0;
      case dtype::q8_0: return q8_0;
      case dtype::q4_k: return q4_k;
      case dtype::q5_k: return q5_k;
      case dtype::q6_k: return q6_k;
      default: return nullptr;
    }
  }
  dot_tile_fn dot_tile_for(dtype t) const {
    return t == dtype::q8_0 ? q8_0_tile : (t == dtype::q4_0 ? q4_0_tile : nullptr);
  }
};

const kernel_set& scalar_kernels();
const kernel_set* avx2_kernels();  // nullptr when not compiled in (non-x86 builds)
const kernel_set* neon_kernels();  // nullptr when not compiled in (no __ARM_NEON)

}  // namespace laneway::cpu::detail
