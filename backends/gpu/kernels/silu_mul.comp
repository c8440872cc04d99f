#version 450
// SiLU-gate multiply in place: g = silu(g) * u = g / (1 + exp(-g)) * u, rounded as the CPU's
// (exp_rn: glibc's expf; then a divide and a product).   g, u: [n] f32
#include "common.glsl"
#include "exact.glsl"

layout(std430, binding = 0) buffer g_buf { float g[]; };
layout(std430, binding = 1) readonly buffer u_buf { float u[]; };
layout(push_constant) uniform params { uint n; } p;

void main() {
  const uint i = flat_thread();
  if (i >= p.n) return;
  const float x = g[i];
  precise float den = 1.0 + exp_rn(-x);
  precise float s = x / den;
  g[i] = s * u[i];
}
