#version 450
// y = x W^T (+ bias) (+ y when accumulating: the residual add), for every weight type.
// One workgroup per (output row, tile of TILE tokens): its 64 invocations stride over the row's
// 32-value chunks, dequantize each chunk into registers once and dot it with the tile's tokens,
// then sum their partials in shared memory. Rows of any length (float types) and row counts
// that are not a multiple of anything are fine. For Q8_0/Q4_0 weights the activations are
// quantized to Q8_0 first (see q8_act), matching the CPU path.
//   w: [n_out, n_in] in GGUF blocks at byte w_off of binding 0
//   x: [n_tokens, x_stride] f32 (values [0, n_in) of each row), y: [n_tokens, y_stride] f32
//   bias: [n_out] f32 at byte bias_off of binding 3 (none: 0xffffffff; binding 3 is then any buffer)
#include "common.glsl"
#include "weights.glsl"

#define TILE 8u
layout(std430, binding = 1) readonly buffer x_buf { float x[]; };
layout(std430, binding = 2) buffer y_buf { float y[]; };
layout(std430, binding = 3) readonly buffer bias_buf { float bias[]; };
layout(push_constant) uniform params {
  uint w_off, w_type, n_in, n_out, n_tokens, x_stride, y_stride, bias_off, accumulate;
} p;

shared float red[TILE][WG];

void main() {
  const uint row = flat_group(), lid = gl_LocalInvocationID.x;
  if (row >= p.n_out) return;  // whole workgroups only: the barriers below stay uniform
  const uint t0 = gl_WorkGroupID.z * TILE, nt = min(TILE, p.n_tokens - t0);
  const uint n_chunks = (p.n_in + 31u) / 32u;
  const uint row_off = p.w_off + row * row_bytes(p.w_type, p.n_in);
  // Q8_0 / Q4_0 weights meet activations quantized to Q8_0 per 32-value chunk, as the CPU path and
  // the peer whose goldens the tests use compute them (docs/forward-pass.md); others meet f32.
  const bool q8_act = p.w_type == T_Q8_0 || p.w_type == T_Q4_0;
  float acc[TILE];
  for (uint t = 0u; t < TILE; ++t) acc[t] = 0.0;
  for (uint c = lid; c < n_chunks; c += WG) {
    float v[32];
    load_chunk(p.w_type, row_off, c, p.n_in, v);
    const uint base = 32u * c, cnt = min(32u, p.n_in - base);
    for (uint t = 0u; t < nt; ++t) {
      const uint xo = (t0 + t) * p.x_stride + base;
      float s = 0.0;
      if (q8_act) {  // x chunk as Q8_0: d = amax / 127 (fp16), q = round_even(x * 127 / amax)
        float amax = 0.0;
        for (uint i = 0u; i < 32u; ++i) amax = max(amax, abs(x[xo + i]));
        const float id = amax != 0.0 ? 127.0 / amax : 0.0;
        const float d = unpackHalf2x16(packHalf2x16(vec2(amax / 127.0, 0.0))).x;
        for (uint i = 0u; i < 32u; ++i) s += v[i] * roundEven(x[xo + i] * id);
        s *= d;
      } else {
        for (uint i = 0u; i < cnt; ++i) s += v[i] * x[xo + i];
      }
      acc[t] += s;
    }
  }
  for (uint t = 0u; t < TILE; ++t) red[t][lid] = acc[t];
  for (uint s = WG / 2u; s > 0u; s >>= 1) {
    barrier();
    if (lid < s) {
      for (uint t = 0u; t < nt; ++t) red[t][lid] += red[t][lid + s];
    }
  }
  barrier();
  if (lid < nt) {
    float r = red[lid][0];
    if (p.bias_off != 0xffffffffu) r += bias[p.bias_off / 4u + row];
    const uint yo = (t0 + lid) * p.y_stride + row;
    y[yo] = p.accumulate != 0u ? y[yo] + r : r;
  }
}
