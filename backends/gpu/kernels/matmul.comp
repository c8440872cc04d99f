#version 450
// y = x W^T (+ bias) (+ y when accumulating: the residual add), for every weight type, with the
// CPU path's arithmetic (backends/cpu: activation_type(), the AVX2 kernel set, which computes
// what the peer behind the goldens computes), so that quantized models stay on the peer's greedy
// path. One workgroup per (output row, tile of TILE tokens); invocation lid = 8 t + k works for
// token t of the tile in lane k, the CPU's 8 accumulator lanes:
// - Q8_0 / Q4_0 weights meet activations quantized to Q8_0 (quantize_row_q8_0), K-quants meet
//   Q8_K (quantize_row_q8_k). The row is walked in chunks of 256 values: the workgroup first
//   quantizes the chunk of its tokens into shared memory (quant_act.glsl), then lane k takes
//   values 4k .. 4k+3 of every 32-value group as an integer sum (times the K-quant group scale)
//   and accumulates acc = fma(float(isum), d_w * d_x, acc) block after block, in order (fma_rn:
//   rounded once, as the CPU's FMA; exact.glsl);
//   Q4_K / Q5_K subtract the min term dmin d_x sum_j min_j (bsums), Q6_K its -32 through bsums.
// - Float weights (F32, F16, BF16) meet f32 activations: lane k keeps 4 accumulators over
//   32-value steps (value 32 s + 8 a + k into accumulator a), then one over 8-value steps, and
//   the last n % 8 values are added by lane 0 after the sum (GCC contracts the CPU's scalar
//   tail into an FMA too). Every FMA is fma_rn (exact.glsl): lavapipe's fma() rounds twice.
// The 8 lanes are then summed as _mm256 hsum does: ((0 + 4) + (2 + 6)) + ((1 + 5) + (3 + 7)).
//   w: [n_out, n_in] in GGUF blocks at byte w_off of binding 0 (quantized: n_in % 32 == 0,
//      K-quants n_in % 256 == 0)
//   x: [n_tokens, x_stride] f32 (values [0, n_in) of each row), y: [n_tokens, y_stride] f32
//   bias: [n_out] f32 at byte bias_off of binding 3 (none: 0xffffffff; binding 3 is then any buffer)
#include "common.glsl"
#include "weights.glsl"
#include "quant_act.glsl"
#include "exact.glsl"

#define TILE 8u
layout(std430, binding = 1) readonly buffer x_buf { float x[]; };
layout(std430, binding = 2) buffer y_buf { float y[]; };
layout(std430, binding = 3) readonly buffer bias_buf { float bias[]; };
layout(push_constant) uniform params {
  uint w_off, w_type, n_in, n_out, n_tokens, x_stride, y_stride, bias_off, accumulate;
} p;

shared uint sq[TILE * 64u];  // sq: [TILE][64] the chunk's 256 quantized activations of a token, 4 a word
shared float sd[TILE * 8u];  // Q8_0: d of block j of token t at [8 t + j]; Q8_K: d at [8 t]
shared int sbs[TILE * 16u];  // Q8_K: bsums[16] of token t at [16 t]
shared float samax[WG], smax[WG];  // Q8_K: max |x| of each 32-value part and its signed value
shared float red[WG];        // the lanes' sums

float w_value(uint row, uint e) {  // float weights: value e of the row
  if (p.w_type == T_F32) return rd_f32(row + 4u * e);
  if (p.w_type == T_F16) return rd_f16(row + 2u * e);
  return uintBitsToFloat(rd_u16(row + 2u * e) << 16);  // BF16
}

// Lane k's share of token t's dot with a float row (xo: the token's first x value).
float float_lane(uint row, uint xo, uint k) {
  precise float a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
  uint i = 0u;
  for (; i + 32u <= p.n_in; i += 32u) {
    a0 = fma_rn(w_value(row, i + k), x[xo + i + k], a0);
    a1 = fma_rn(w_value(row, i + 8u + k), x[xo + i + 8u + k], a1);
    a2 = fma_rn(w_value(row, i + 16u + k), x[xo + i + 16u + k], a2);
    a3 = fma_rn(w_value(row, i + 24u + k), x[xo + i + 24u + k], a3);
  }
  for (; i + 8u <= p.n_in; i += 8u) a0 = fma_rn(w_value(row, i + k), x[xo + i + k], a0);
  precise float s = (a0 + a1) + (a2 + a3);
  return s;
}

// Q8_0: token t's block j of chunk c (group g = 8c + j) into sq / sd.
void quantize_q8_0_block(uint xo, uint t, uint j) {
  float amax = 0.0;
  for (uint i = 0u; i < 32u; ++i) amax = max(amax, abs(x[xo + i]));
  precise float d = amax / 127.0;
  precise float id = amax != 0.0 ? 127.0 / amax : 0.0;
  sd[8u * t + j] = unpackHalf2x16(fp16_bits(d)).x;
  for (uint i = 0u; i < 8u; ++i) {
    const uint e = xo + 4u * i;
    sq[64u * t + 8u * j + i] = pack_i8x4(round_scaled(x[e], id), round_scaled(x[e + 1u], id),
                                         round_scaled(x[e + 2u], id), round_scaled(x[e + 3u], id));
  }
}

// Q8_K, step 1: part k (values 32k .. 32k+31 of the block) finds its first value of largest
// magnitude. Step 2 (after a barrier): the block's max is the first of the parts' (strictly
// larger wins), iscale = -127 / max, q = min(127, round(iscale x)), d = 1 / iscale, bsums per 16.
void q8_k_part_max(uint xo, uint lid) {
  float amax = 0.0, m = 0.0;
  for (uint i = 0u; i < 32u; ++i) {
    const float v = x[xo + i];
    if (abs(v) > amax) {
      amax = abs(v);
      m = v;
    }
  }
  samax[lid] = amax;
  smax[lid] = m;
}
void quantize_q8_k_part(uint xo, uint t, uint k) {
  float amax = 0.0, m = 0.0;
  for (uint i = 0u; i < 8u; ++i) {
    if (samax[8u * t + i] > amax) {
      amax = samax[8u * t + i];
      m = smax[8u * t + i];
    }
  }
  precise float iscale = amax != 0.0 ? -127.0 / m : 0.0;
  int b0 = 0, b1 = 0;
  for (uint i = 0u; i < 8u; ++i) {
    int q[4];
    for (uint l = 0u; l < 4u; ++l) q[l] = amax != 0.0 ? min(127, round_scaled(x[xo + 4u * i + l], iscale)) : 0;
    sq[64u * t + 8u * k + i] = pack_i8x4(q[0], q[1], q[2], q[3]);
    const int s4 = (q[0] + q[1]) + (q[2] + q[3]);
    if (i < 4u) b0 += s4; else b1 += s4;
  }
  sbs[16u * t + 2u * k] = b0;
  sbs[16u * t + 2u * k + 1u] = b1;
  if (k == 0u) {
    precise float d = amax != 0.0 ? 1.0 / iscale : 0.0;
    sd[8u * t] = d;
  }
}

int dot4(ivec4 a, uint packed) {
  return a.x * sbyte(packed, 0u) + a.y * sbyte(packed, 1u) + a.z * sbyte(packed, 2u) + a.w * sbyte(packed, 3u);
}

void main() {
  const uint row = flat_group(), lid = gl_LocalInvocationID.x;
  if (row >= p.n_out) return;  // whole workgroups only: the barriers below stay uniform
  const uint t = lid / 8u, k = lid % 8u;
  const uint t0 = gl_WorkGroupID.z * TILE, nt = min(TILE, p.n_tokens - t0);
  const bool live = t < nt;
  const uint xo = (t0 + t) * p.x_stride;
  const uint type = p.w_type;
  const uint row_off = p.w_off + row * row_bytes(type, p.n_in);
  const bool is_float = type == T_F32 || type == T_F16 || type == T_BF16;
  const bool q8_k = type == T_Q4_K || type == T_Q5_K || type == T_Q6_K;

  precise float acc = 0.0, min_sum = 0.0;
  if (is_float) {
    if (live) acc = float_lane(row_off, xo, k);
  } else {
    const uint n_groups = p.n_in / 32u, n_chunks = (p.n_in + 255u) / 256u;
    for (uint c = 0u; c < n_chunks; ++c) {
      const uint g0 = 8u * c, xc = xo + 256u * c + 32u * k;  // xc: this invocation's 32 values
      if (q8_k) {
        if (live) q8_k_part_max(xc, lid);
        barrier();
        if (live) quantize_q8_k_part(xc, t, k);
      } else if (live && g0 + k < n_groups) {
        quantize_q8_0_block(xc, t, k);
      }
      barrier();
      if (live) {
        if (q8_k) {  // one super-block: 8 groups, scaled per group, then once per block
          int isum = 0;
          for (uint j = 0u; j < 8u; ++j) {
            const uint g = g0 + j;
            isum += lane_scale(type, row_off, g, k) * dot4(lane_quants(type, row_off, g, k), sq[64u * t + 8u * j + k]);
          }
          const float dx = sd[8u * t];
          if (k == 0u && type == T_Q6_K) {  // sum_j scale_j bsums_j, 32 times: the quants' +32
            int offset = 0;
            for (uint j = 0u; j < 16u; ++j) {
              offset += sbyte(rd_u8(row_off + 210u * c + 192u + j), 0u) * sbs[16u * t + j];
            }
            isum -= 32 * offset;
          }
          if (k == 0u && type != T_Q6_K) {  // dmin d_x sum_j min_j (bsums[2j] + bsums[2j+1])
            const uint b = row_off + (type == T_Q5_K ? 176u : 144u) * c;
            int mc = 0;
            for (uint j = 0u; j < 8u; ++j) {
              int sc, mn;
              scale_min_k4_int(b + 4u, j, sc, mn);
              mc += mn * (sbs[16u * t + 2u * j] + sbs[16u * t + 2u * j + 1u]);
            }
            precise float dm = rd_f16(b + 2u) * dx;
            min_sum = fma_rn(dm, float(mc), min_sum);
          }
          precise float s = block_d(type, row_off, g0) * dx;
          acc = fma_rn(float(isum), s, acc);
        } else {  // up to 8 blocks of 32, each scaled on its own
          for (uint j = 0u; j < 8u; ++j) {
            const uint g = g0 + j;
            if (g >= n_groups) break;
            const int isum = dot4(lane_quants(type, row_off, g, k), sq[64u * t + 8u * j + k]);
            precise float s = block_d(type, row_off, g) * sd[8u * t + j];
            acc = fma_rn(float(isum), s, acc);
          }
        }
      }
      barrier();  // sq / sd are rewritten by the next chunk
    }
  }
  red[lid] = acc;
  barrier();
  if (live && k == 0u) {
    const uint r8 = 8u * t;
    precise float r = ((red[r8] + red[r8 + 4u]) + (red[r8 + 2u] + red[r8 + 6u])) +
                      ((red[r8 + 1u] + red[r8 + 5u]) + (red[r8 + 3u] + red[r8 + 7u]));
    if (is_float) {
      for (uint i = p.n_in & ~7u; i < p.n_in; ++i) r = fma_rn(w_value(row_off, i), x[xo + i], r);
    }
    r = r - min_sum;
    if (p.bias_off != 0xffffffffu) r = r + bias[p.bias_off / 4u + row];
    const uint yo = (t0 + t) * p.y_stride + row;
    y[yo] = p.accumulate != 0u ? y[yo] + r : r;
  }
}
