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

// Packed panels (optional, the AVX-512 prefill path): panel_rows weight rows of a 32-value block
// type re-laid-out once per call so that one register holds 8 bytes of each row and the float
// scaling is done once for all panel_rows rows (layout: dot_avx512.cpp).
// w: panel_rows rows, w_stride bytes apart -> panel: [n/32] packed blocks of panel_bytes(n).
using pack_panel_fn = void (*)(int64_t n, const void* w, size_t w_stride, void* panel);
// One Q8_0 activation row -> the packed activation row the panel kernel reads (packed_x_bytes(n)).
using pack_x_fn = void (*)(int64_t n, const void* x_q8_0, void* x_packed);
// panel x n_tok packed activation rows (x_stride bytes apart), n_tok <= panel_tokens:
// y[t * ldy + r] = dot(row r, token t) for r < panel_rows. While it computes it prefetches
// prefetch_bytes from prefetch (the next panel's weight rows; nullptr: none): packing reads 8
// rows in lockstep, 8 short streams the hardware prefetcher barely follows on the 4 KiB pages of
// an mmapped model, so without this the packing waits on DRAM while the tiles leave it idle.
using panel_tile_fn = void (*)(int64_t n, const void* panel, const void* x, size_t x_stride,
                               int64_t n_tok, float* y, int64_t ldy, const void* prefetch,
                               size_t prefetch_bytes);

// An activation quantizer bit-identical to quantize_row for its type (x: [n] -> y: [n] quantized).
using quantize_fn = void (*)(const float* x, void* y, int64_t n);

struct kernel_set {
  const char* name;
  vec_dot_fn f32, f16, bf16, q4_0, q8_0, q4_k, q5_k, q6_k;
  dot_tile_fn q8_0_tile = nullptr, q4_0_tile = nullptr;  // optional
  int tile_rows = 0, tile_tokens = 0;
  pack_panel_fn pack_q8_0 = nullptr, pack_q4_0 = nullptr;  // optional, with the three below
  pack_x_fn pack_x = nullptr;
  panel_tile_fn panel_tile = nullptr;
  int panel_rows = 0, panel_tokens = 0;
  size_t (*panel_bytes)(int64_t n) = nullptr;
  size_t (*packed_x_bytes)(int64_t n) = nullptr;
  quantize_fn quantize_q8_0 = nullptr, quantize_q8_k = nullptr;  // optional: else quantize_row

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
  quantize_fn quantize_for(dtype act) const {
    return act == dtype::q8_0 ? quantize_q8_0 : (act == dtype::q8_k ? quantize_q8_k : nullptr);
  }
  pack_panel_fn pack_panel_for(dtype t) const {
    return t == dtype::q8_0 ? pack_q8_0 : (t == dtype::q4_0 ? pack_q4_0 : nullptr);
  }
};

const kernel_set& scalar_kernels();
const kernel_set* avx2_kernels();  // nullptr when not compiled in (non-x86 builds)
const kernel_set* avx512_kernels();  // AVX-512 F/BW/VL/VNNI; nullptr when not compiled in
const kernel_set* neon_kernels();  // nullptr when not compiled in (no __ARM_NEON)
const kernel_set& active_kernels();  // the set matmul uses now (matmul.cpp: active_isa())

}  // namespace laneway::cpu::detail
