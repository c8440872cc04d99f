#version 450
// SiLU-gate multiply in place: g = silu(g) * u = g / (1 + exp(-g)) * u.   g, u: [n] f32
#include "common.glsl"

layout(std430, binding = 0) buffer g_buf { float g[]; };
layout(std430, binding = 1) readonly buffer u_buf { float u[]; };
layout(push_constant) uniform params { uint n; } p;

void main() {
  const uint i = flat_thread();
  if (i < p.n) g[i] = g[i] / (1.0 + exp(-g[i])) * u[i];
}
