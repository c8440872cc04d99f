#version 450
// Embedding lookup with dequantization: x[t] = W[tokens[t]] for the batch tokens.
//   w: [n_vocab, n_embd] in GGUF blocks at byte w_off of binding 0
//   io: tokens [n_tokens] at word tok_off; x: [n_tokens, n_embd] f32
// One invocation per (token, 32-value chunk).
#include "common.glsl"
#include "weights.glsl"

layout(std430, binding = 1) readonly buffer io_buf { uint io[]; };
layout(std430, binding = 2) writeonly buffer x_buf { float x[]; };
layout(push_constant) uniform params { uint w_off, w_type, n_embd, n_tokens, tok_off; } p;

void main() {
  const uint n_chunks = (p.n_embd + 31u) / 32u, id = flat_thread();
  if (id >= p.n_tokens * n_chunks) return;
  const uint t = id / n_chunks, c = id % n_chunks;
  const uint row = p.w_off + io[p.tok_off + t] * row_bytes(p.w_type, p.n_embd);
  float v[32];
  load_chunk(p.w_type, row, c, p.n_embd, v);
  for (uint i = 0u; i < 32u && 32u * c + i < p.n_embd; ++i) x[t * p.n_embd + 32u * c + i] = v[i];
}
