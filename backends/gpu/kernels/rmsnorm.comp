#version 450
// RMSNorm per row: y = x * (1 / sqrt(mean(x^2) + eps)) * g. Also the per-head q/k norm of qwen3
// (rows = tokens * heads, n = head_dim). One workgroup per row; y may be x (in place: each
// invocation rewrites only the values it read, after the reduction).
// As the CPU path (backends/cpu/ops.cpp, after llama.cpp): the float squares are summed in
// double there and the mean rounded once to float. Shaders have no portable double, so the sum
// is kept as an unevaluated pair hi + lo of floats (error-free two_sum at every add, ~2^-46
// relative), the mean is (hi + lo) / n rounded once, and the rest rounds as the CPU does.
//   x, y: [n_rows, n] f32; g: [n] f32 at byte g_off of binding 0
#include "common.glsl"
#include "weights.glsl"
#include "exact.glsl"

layout(std430, binding = 1) readonly buffer x_buf { float x[]; };
layout(std430, binding = 2) writeonly buffer y_buf { float y[]; };
layout(push_constant) uniform params { uint g_off, n, n_rows; float eps; } p;

shared vec2 red[WG];  // (hi, lo) partial sums

void main() {
  const uint row = flat_group(), lid = gl_LocalInvocationID.x;
  if (row >= p.n_rows) return;
  const uint o = row * p.n;
  vec2 s = vec2(0.0);
  for (uint i = lid; i < p.n; i += WG) {
    precise float sq = x[o + i] * x[o + i];
    s = add_pair(s, vec2(sq, 0.0));
  }
  red[lid] = s;
  for (uint h = WG / 2u; h > 0u; h >>= 1) {
    barrier();
    if (lid < h) red[lid] = add_pair(red[lid], red[lid + h]);
  }
  barrier();
  // mean = (hi + lo) / n rounded once: q, then the remainder's correction.
  const vec2 sum = red[0];
  const float nf = float(p.n);
  precise float q = sum.x / nf;
  const vec2 qn = two_prod(q, nf);
  precise float r = ((sum.x - qn.x) - qn.y) + sum.y;
  precise float mean = q + r / nf;
  precise float inv = 1.0 / sqrt(mean + p.eps);
  for (uint i = lid; i < p.n; i += WG) {
    precise float v = x[o + i] * inv;
    y[o + i] = v * rd_f32(p.g_off + 4u * i);
  }
}
