#version 450
// dst[r] = src[rows[r]]: the residual rows of the tokens that want logits.
//   src: [*, width] f32; dst: [n_rows, width] f32; io: rows [n_rows] at word rows_off
#include "common.glsl"

layout(std430, binding = 0) readonly buffer src_buf { float src[]; };
layout(std430, binding = 1) writeonly buffer dst_buf { float dst[]; };
layout(std430, binding = 2) readonly buffer io_buf { uint io[]; };
layout(push_constant) uniform params { uint n_rows, width, rows_off; } p;

void main() {
  const uint id = flat_thread();
  if (id >= p.n_rows * p.width) return;
  const uint r = id / p.width, i = id % p.width;
  dst[id] = src[io[p.rows_off + r] * p.width + i];
}
