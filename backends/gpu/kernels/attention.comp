#version 450
// Causal attention of each batch token over its own sequence in the paged KV pool, for a batch
// of sequences of different lengths (prefill chunks and decode tokens in one step). Token t
// sees positions [0, n_seen[t]) of its sequence; the pool row of position i is io[tab[t] + i]
// (the sequence's page table, resolved by the host; one pool buffer per layer). Grouped-query:
// head h reads kv head h / (n_head / n_head_kv).
// With the CPU path's roundings (backends/engine/forward_attention*.cpp, the peer's flash
// attention), so that quantized models stay on the peer's greedy path:
//   s_p = scale * q . k_p; with an f16 pool q is rounded to f16 and the exact f16 products are
//         summed as the CPU's AVX2 kernel does: 32-value steps in 4 x 8 lanes, its reduction,
//         the last head_dim % 32 in double (here a float pair, exact.glsl)
//   running max m over positions in order: s_p > m: r = e^(m - s_p), w = 1, m = s_p; else
//         r = 1, w = e^(s_p - m)    (e^ as glibc's expf: exp_rn)
//   acc = acc * r when r != 1; acc = fma(v_p, w, acc); S = S * r + w; an f16 pool keeps acc
//         f16 (rounded after both steps); out = acc * (1 / S)
// (An f32 pool's q . k is one FMA chain here; the CPU's 8 lanes may differ in the last bit.)
// One workgroup per (token, head), over chunks of WG positions: invocation i scores position
// p0 + i; invocation 0 walks the chunk's running max; invocation i computes position p0 + i's
// r and w; then every invocation, owning output dims i, i + WG, ... (head_dim <= 4 * WG), runs
// the V recurrence over the chunk's positions in order.
//   q, out: [n_tokens, n_head, head_dim] f32; kpool, vpool: [rows, n_head_kv * head_dim] f16
//   pairs or f32 (uint words); io: n_seen [n_tokens] at seen_off, tab [n_tokens] at tab_off
#include "common.glsl"
#include "quant_act.glsl"
#include "exact.glsl"

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
shared float score[WG];
shared float m_before[WG];  // the running max before each position of the chunk
shared float rescale[WG], weight[WG];
shared uint rows[WG];
shared float m_run;         // the running max after the chunks so far

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
float round16(float v) { return p.f16 != 0u ? unpackHalf2x16(fp16_bits(v)).x : v; }

// q . k of pool row r at value offset kofs (d values).
float dot_f16(uint r, uint kofs, uint row_values, uint d) {
  const uint d32 = d & ~31u;
  float lanes[32];
  for (uint l = 0u; l < 32u; ++l) lanes[l] = 0.0;
  for (uint s = 0u; s < d32; s += 32u) {
    for (uint l = 0u; l < 32u; ++l) {
      precise float a = lanes[l] + qs[s + l] * pool_at(true, r, kofs + s + l, row_values);  // exact product
      lanes[l] = a;
    }
  }
  // lane = (a0 + a2) + (a1 + a3) for the four 8-lane accumulators, t[m] = lane[m] + lane[m + 4],
  // then (t0 + t1) + (t2 + t3)
  float t[4];
  for (uint m = 0u; m < 4u; ++m) {
    precise float lo = (lanes[m] + lanes[16u + m]) + (lanes[8u + m] + lanes[24u + m]);
    precise float hi = (lanes[m + 4u] + lanes[20u + m]) + (lanes[12u + m] + lanes[28u + m]);
    precise float tm = lo + hi;
    t[m] = tm;
  }
  precise float s0 = (t[0] + t[1]) + (t[2] + t[3]);
  vec2 sum = vec2(s0, 0.0);
  for (uint j = d32; j < d; ++j) {
    precise float prod = qs[j] * pool_at(true, r, kofs + j, row_values);
    sum = add_pair(sum, vec2(prod, 0.0));
  }
  precise float res = sum.x + sum.y;
  return res;
}

float dot_f32(uint r, uint kofs, uint row_values, uint d) {
  precise float dot = 0.0;
  for (uint j = 0u; j < d; ++j) dot = fma_rn(qs[j], pool_at(true, r, kofs + j, row_values), dot);
  return dot;
}

void main() {
  const uint wg = flat_group(), lid = gl_LocalInvocationID.x;
  if (wg >= p.n_tokens * p.n_head) return;
  const uint t = wg / p.n_head, h = wg % p.n_head, d = p.head_dim;
  const uint hk = h / (p.n_head / p.n_head_kv), row_values = p.n_head_kv * d, kofs = hk * d;
  const uint n_seen = io[p.seen_off + t], tab = io[p.tab_off + t];
  for (uint j = lid; j < d; j += WG) qs[j] = round16(q[(t * p.n_head + h) * d + j]);
  if (lid == 0u) m_run = -1.0 / 0.0;
  barrier();
  precise float sum = 0.0;
  float acc[4] = float[4](0.0, 0.0, 0.0, 0.0);
  for (uint p0 = 0u; p0 < n_seen; p0 += WG) {
    const uint cnt = min(WG, n_seen - p0);
    if (lid < cnt) {
      const uint r = io[tab + p0 + lid];
      rows[lid] = r;
      const float dot = p.f16 != 0u ? dot_f16(r, kofs, row_values, d) : dot_f32(r, kofs, row_values, d);
      precise float s = p.scale * dot;
      score[lid] = s;
    }
    barrier();
    if (lid == 0u) {  // the running max, position by position
      float m = m_run;
      for (uint i = 0u; i < cnt; ++i) {
        m_before[i] = m;
        if (score[i] > m) m = score[i];
      }
      m_run = m;
    }
    barrier();
    if (lid < cnt) {
      const float si = score[lid], mb = m_before[lid];
      precise float dm = mb - si, ds = si - mb;
      rescale[lid] = si > mb ? exp_rn(dm) : 1.0;  // 0 for the first position
      weight[lid] = si > mb ? 1.0 : exp_rn(ds);
    }
    barrier();
    for (uint i = 0u; i < cnt; ++i) {
      const float ms = rescale[i], vs = weight[i];
      sum = sum * ms + vs;
      for (uint k = 0u; k < 4u; ++k) {
        const uint j = lid + k * WG;
        if (j >= d) break;
        float a = acc[k];
        if (ms != 1.0) {
          precise float scaled = a * ms;
          a = round16(scaled);
        }
        acc[k] = round16(fma_rn(pool_at(false, rows[i], kofs + j, row_values), vs, a));
      }
    }
    barrier();  // score, rows and the weights are rewritten by the next chunk
  }
  const float inv = sum == 0.0 ? 0.0 : 1.0 / sum;
  for (uint k = 0u; k < 4u; ++k) {
    const uint j = lid + k * WG;
    if (j < d) o[(t * p.n_head + h) * d + j] = acc[k] * inv;
  }
}
