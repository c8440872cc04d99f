#version 450
// Causal attention of each batch token over its own sequence in the paged KV pool, for a batch
// of sequences of different lengths (prefill chunks and decode tokens in one step). Token t
// sees positions [0, n_seen[t]) of its sequence; the pool row of position i is io[tab[t] + i]
// (the sequence's page table, resolved by the host; one pool buffer per layer). Grouped-query:
// head h reads kv head h / (n_head / n_head_kv).
// One workgroup per (token, head), over chunks of WG positions: invocation i scores position
// p0 + i (q . k, q rounded to f16 for an f16 pool as the CPU path does); then invocation i,
// owning output dims i, i + WG, ... (head_dim <= 4 * WG), runs the online softmax over the
// chunk's positions in order (backends/engine/forward_attention.cpp describes the recurrence).
//   q, out: [n_tokens, n_head, head_dim] f32; kpool, vpool: [rows, n_head_kv * head_dim] f16
//   pairs or f32 (uint words); io: n_seen [n_tokens] at seen_off, tab [n_tokens] at tab_off
#include "common.glsl"

layout(std430, binding = 0) readonly buffer q_buf { float q[]; };
layout(std430, binding = 1) readonly buffer kp_buf { uint kpool[]; };
layout(std430, binding = 2) readonly buffer vp_buf { uint vpool[]; };
layout(std430, binding = 3) readonly buffer io_buf { uint io[]; };
layout(std430, binding = 4) writeonly buffer o_buf { float o[]; };
layout(push_constant) uniform params {
  uint n_tokens, n_head, n_head_kv, head_dim, f16, seen_off, tab_off;
  float scale;
} p;

shared float qs[4 * WG];
shared float w[WG];
shared uint rows[WG];

// Element e of pool row r (row_values values a row).
float pool_at(bool is_k, uint r, uint e, uint row_values) {
  const uint idx = r * row_values + e;
  if (p.f16 != 0u) {
    const uint word = is_k ? kpool[idx >> 1] : vpool[idx >> 1];
    const vec2 h = unpackHalf2x16(word);
    return (idx & 1u) == 0u ? h.x : h.y;
  }
  return uintBitsToFloat(is_k ? kpool[idx] : vpool[idx]);
}

// Rounds to f16 and back for an f16 pool (the peer's f16 accumulator), else unchanged.
float round16(float v) { return p.f16 != 0u ? unpackHalf2x16(packHalf2x16(vec2(v, 0.0))).x : v; }

void main() {
  const uint wg = flat_group(), lid = gl_LocalInvocationID.x;
  if (wg >= p.n_tokens * p.n_head) return;
  const uint t = wg / p.n_head, h = wg % p.n_head, d = p.head_dim;
  const uint hk = h / (p.n_head / p.n_head_kv), row_values = p.n_head_kv * d, kofs = hk * d;
  const uint n_seen = io[p.seen_off + t], tab = io[p.tab_off + t];
  for (uint j = lid; j < d; j += WG) {
    const float v = q[(t * p.n_head + h) * d + j];
    qs[j] = p.f16 != 0u ? unpackHalf2x16(packHalf2x16(vec2(v, 0.0))).x : v;
  }
  barrier();
  float m = -1.0 / 0.0, sum = 0.0;
  float acc[4] = float[4](0.0, 0.0, 0.0, 0.0);
  for (uint p0 = 0u; p0 < n_seen; p0 += WG) {
    const uint cnt = min(WG, n_seen - p0);
    float s = -1.0 / 0.0;
    if (lid < cnt) {
      const uint r = io[tab + p0 + lid];
      rows[lid] = r;
      float dot = 0.0;
      for (uint j = 0u; j < d; ++j) dot += qs[j] * pool_at(true, r, kofs + j, row_values);
      s = p.scale * dot;
    }
    w[lid] = s;
    barrier();
    // The running max, position by position as the CPU path (and the peer) walks them: a new max
    // rescales the sum and the accumulator; with an f16 pool the accumulator is rounded to f16
    // after every step, as the peer's f16 accumulator is. Every invocation tracks m and sum.
    for (uint i = 0u; i < cnt; ++i) {
      const float si = w[i];
      float ms = 1.0, vs = 1.0;
      if (si > m) {
        ms = exp(m - si);  // 0 for the first position
        m = si;
      } else {
        vs = exp(si - m);
      }
      sum = sum * ms + vs;
      for (uint k = 0u; k < 4u; ++k) {
        const uint j = lid + k * WG;
        if (j >= d) break;
        float a = acc[k];
        if (ms != 1.0) a = round16(a * ms);
        acc[k] = round16(a + vs * pool_at(false, rows[i], kofs + j, row_values));
      }
    }
    barrier();  // w and rows are rewritten by the next chunk
  }
  const float inv = sum == 0.0 ? 0.0 : 1.0 / sum;
  for (uint k = 0u; k < 4u; ++k) {
    const uint j = lid + k * WG;
    if (j < d) o[(t * p.n_head + h) * d + j] = acc[k] * inv;
  }
}
