#version 450
// Writes the batch's new K and V rows into one layer's KV pool: pool row rows[t] (the engine's
// page table, resolved by the host) gets k[t] / v[t], as f16 (rounded to nearest even as the
// CPU's fp32_to_fp16, two values a word) or f32.
//   k, v: [n_tokens, row_values] f32; io: rows [n_tokens] at word rows_off
//   kpool, vpool: [rows, row_values] f16 pairs or f32, as uint words
#include "common.glsl"
#include "quant_act.glsl"

layout(std430, binding = 0) readonly buffer k_buf { float k[]; };
layout(std430, binding = 1) readonly buffer v_buf { float v[]; };
layout(std430, binding = 2) writeonly buffer kp_buf { uint kpool[]; };
layout(std430, binding = 3) writeonly buffer vp_buf { uint vpool[]; };
layout(std430, binding = 4) readonly buffer io_buf { uint io[]; };
layout(push_constant) uniform params { uint n_tokens, row_values, f16, rows_off; } p;

void main() {
  const uint per_row = p.f16 != 0u ? p.row_values / 2u : p.row_values, id = flat_thread();
  if (id >= p.n_tokens * per_row) return;
  const uint t = id / per_row, j = id % per_row;
  const uint dst = io[p.rows_off + t] * per_row + j;
  const uint src = t * p.row_values;
  if (p.f16 != 0u) {
    kpool[dst] = fp16_bits(k[src + 2u * j]) | (fp16_bits(k[src + 2u * j + 1u]) << 16);
    vpool[dst] = fp16_bits(v[src + 2u * j]) | (fp16_bits(v[src + 2u * j + 1u]) << 16);
  } else {
    kpool[dst] = floatBitsToUint(k[src + j]);
    vpool[dst] = floatBitsToUint(v[src + j]);
  }
}
