#version 450
// RoPE in place on q or k: x: [n_tokens, n_heads, head_dim] f32. Pair i of a head turns by the
// angle whose cos/sin the host computed per (token, pair) (io, as floats: cos [n_tokens, half] at
// word cos_off, sin at sin_off), so every backend uses the same angles. normal (llama): pairs
// (2i, 2i+1); neox (qwen2/qwen3): pairs (i, i + half). One invocation per (token, head, pair).
#include "common.glsl"
#include "exact.glsl"

layout(std430, binding = 0) buffer x_buf { float x[]; };
layout(std430, binding = 1) readonly buffer io_buf { uint io[]; };
layout(push_constant) uniform params { uint n_tokens, n_heads, head_dim, neox, cos_off, sin_off; } p;

void main() {
  const uint half_d = p.head_dim / 2u, id = flat_thread();
  if (id >= p.n_tokens * p.n_heads * half_d) return;
  const uint i = id % half_d, th = id / half_d, t = th / p.n_heads;
  const float c = uintBitsToFloat(io[p.cos_off + t * half_d + i]);
  const float s = uintBitsToFloat(io[p.sin_off + t * half_d + i]);
  const uint base = th * p.head_dim;
  const uint a = base + (p.neox != 0u ? i : 2u * i), b = a + (p.neox != 0u ? half_d : 1u);
  const float x0 = x[a], x1 = x[b];
  precise float x1s = x1 * s, x1c = x1 * c;
  x[a] = fma_rn(x0, c, -x1s);  // the first product fused, as the CPU's rope (ops.cpp mul_add)
  x[b] = fma_rn(x0, s, x1c);
}
