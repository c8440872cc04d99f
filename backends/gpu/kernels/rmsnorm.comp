#version 450
// RMSNorm per row: y = x / sqrt(mean(x^2) + eps) * g. Also the per-head q/k norm of qwen3
// (rows = tokens * heads, n = head_dim). One workgroup per row; y may be x (in place: each
// invocation rewrites only the values it read, after the reduction).
//   x, y: [n_rows, n] f32; g: [n] f32 at byte g_off of binding 0
#include "common.glsl"
#include "weights.glsl"

layout(std430, binding = 1) readonly buffer x_buf { float x[]; };
layout(std430, binding = 2) writeonly buffer y_buf { float y[]; };
layout(push_constant) uniform params { uint g_off, n, n_rows; float eps; } p;

shared float red[WG];

void main() {
  const uint row = flat_group(), lid = gl_LocalInvocationID.x;
  if (row >= p.n_rows) return;
  const uint o = row * p.n;
  float s = 0.0;
  for (uint i = lid; i < p.n; i += WG) s += x[o + i] * x[o + i];
  red[lid] = s;
  WG_REDUCE_SUM(red)
  const float inv = 1.0 / sqrt(red[0] / float(p.n) + p.eps);
  for (uint i = lid; i < p.n; i += WG) y[o + i] = x[o + i] * inv * rd_f32(p.g_off + 4u * i);
}
