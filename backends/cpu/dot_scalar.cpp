// Plain-C++ dot products for every weight type: always compiled, always testable (forced with
// LANEWAY_CPU_ISA=scalar or force_isa), and the model the SIMD versions are checked against.
// x (activations) is f32 for float weights, Q8_0 for Q4_0/Q8_0, Q8_K for the K-quants.
#include <cstring>

#include "backends/cpu/kernels.hpp"

namespace laneway::cpu::detail {

namespace {

// w, x: [n] float
float dot_f32(int64_t n, const void* w_, const void* x_) {
  const auto* w = static_cast<const float*>(w_);
  const auto* x = static_cast<const float*>(x_);
  float s[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) s[k] += w[i + k] * x[i + k];
  }
  for (; i < n; ++i) s[0] += w[i] * x[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// fp16 -> fp32 through a 64K-entry table (256 KiB, built on first use).
const float* fp16_table() {
  static const float* table = [] {
    static float t[65536];
    for (uint32_t h = 0; h < 65536; ++h) t[h] = fp16_to_fp32(static_cast<uint16_t>(h));
    return t;
  }();
  return table;
}

// w: [n] fp16, x: [n] float
float dot_f16(int64_t n, const void* w_, const void* x_) {
  const auto* w = static_cast<const uint16_t*>(w_);
  const auto* x = static_cast<const float*>(x_);
  const float* table = fp16_table();
  float s[4] = {};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int k = 0; k < 4; ++k) s[k] += table[w[i + k]] * x[i + k];
  }
  for (; i < n; ++i) s[0] += table[w[i]] * x[i];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

// w: [n] bf16, x: [n] float
float dot_bf16(int64_t n, const void* w_, const void* x_) {
  const auto* w = static_cast<const uint16_t*>(w_);
  const auto* x = static_cast<const float*>(x_);
  float s[4] = {};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int k = 0; k < 4; ++k) s[k] += bf16_to_fp32(w[i + k]) * x[i + k];
  }
  for (; i < n; ++i) s[0] += bf16_to_fp32(w[i]) * x[i];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

// w: [n/32] Q8_0, x: [n/32] Q8_0
float dot_q8_0(int64_t n, const void* w_, const void* x_) {
  const auto* w = static_cast<const block_q8_0*>(w_);
  const auto* x = static_cast<const block_q8_0*>(x_);
  const float* table = fp16_table();
  float sum = 0.0f;
  for (int64_t b = 0; b < n / qk8_0; ++b) {
    int32_t isum = 0;
    for (int j = 0; j < 32; ++j) isum += w[b].qs[j] * x[b].qs[j];
    sum += table[w[b].d] * table[x[b].d] * static_cast<float>(isum);
  }
  return sum;
}

// w: [n/32] Q4_0, x: [n/32] Q8_0
float dot_q4_0(int64_t n, const void* w_, const void* x_) {
  const auto* w = static_cast<const block_q4_0*>(w_);
  const auto* x = static_cast<const block_q8_0*>(x_);
  const float* table = fp16_table();
  float sum = 0.0f;
  for (int64_t b = 0; b < n / qk4_0; ++b) {
    int32_t isum = 0;
    for (int j = 0; j < 16; ++j) {
      isum += ((w[b].qs[j] & 15) - 8) * x[b].qs[j];
      isum += ((w[b].qs[j] >> 4) - 8) * x[b].qs[j + 16];
    }
    sum += table[w[b].d] * table[x[b].d] * static_cast<float>(isum);
  }
  return sum;
}

// Q4_K / Q5_K share this: q(j, l) is quant l of sub-block j (0..15 or 0..31).
// sum = d*dx * sum_j scale_j * sum_l q*x  -  dmin*dx * sum_j min_j * (bsums[2j] + bsums[2j+1])
template <class block_t, class quant_fn>
float dot_k4(int64_t n, const block_t* w, const block_q8_k* x, quant_fn q) {
  const float* table = fp16_table();
  float sum = 0.0f;
  for (int64_t b = 0; b < n / qk_k; ++b) {
    int32_t isum = 0, imin = 0;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      get_scale_min_k4(j, w[b].scales, &sc, &m);
      int32_t s = 0;
      for (int l = 0; l < 32; ++l) s += q(w[b], j, l) * x[b].qs[32 * j + l];
      isum += sc * s;
      imin += m * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
    }
    sum += x[b].d * (table[w[b].d] * static_cast<float>(isum) -
                     table[w[b].dmin] * static_cast<float>(imin));
  }
  return sum;
}

// w: [n/256] Q4_K, x: [n/256] Q8_K
float dot_q4_k(int64_t n, const void* w, const void* x) {
  return dot_k4(n, static_cast<const block_q4_k*>(w), static_cast<const block_q8_k*>(x),
                [](const block_q4_k& b, int j, int l) {
                  const uint8_t v = b.qs[32 * (j / 2) + l];
                  return (j % 2) ? (v >> 4) : (v & 15);
                });
}

// w: [n/256] Q5_K, x: [n/256] Q8_K
float dot_q5_k(int64_t n, const void* w, const void* x) {
  return dot_k4(n, static_cast<const block_q5_k*>(w), static_cast<const block_q8_k*>(x),
                [](const block_q5_k& b, int j, int l) {
                  const uint8_t v = b.qs[32 * (j / 2) + l];
                  return ((j % 2) ? (v >> 4) : (v & 15)) | (((b.qh[l] >> j) & 1) << 4);
                });
}

// w: [n/256] Q6_K, x: [n/256] Q8_K
float dot_q6_k(int64_t n, const void* w_, const void* x_) {
  const auto* w = static_cast<const block_q6_k*>(w_);
  const auto* x = static_cast<const block_q8_k*>(x_);
  const float* table = fp16_table();
  float sum = 0.0f;
  for (int64_t b = 0; b < n / qk_k; ++b) {
    int8_t q[qk_k];  // unpacked quants, 0..63, in value order
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = w[b].ql + 64 * h;
      const uint8_t* qh = w[b].qh + 32 * h;
      for (int l = 0; l < 32; ++l) {
        q[128 * h + l] = static_cast<int8_t>((ql[l] & 15) | ((qh[l] >> 0 & 3) << 4));
        q[128 * h + l + 32] = static_cast<int8_t>((ql[l + 32] & 15) | ((qh[l] >> 2 & 3) << 4));
        q[128 * h + l + 64] = static_cast<int8_t>((ql[l] >> 4) | ((qh[l] >> 4 & 3) << 4));
        q[128 * h + l + 96] = static_cast<int8_t>((ql[l + 32] >> 4) | ((qh[l] >> 6 & 3) << 4));
      }
    }
    int32_t isum = 0;
    for (int j = 0; j < 16; ++j) {
      int32_t s = 0;
      for (int l = 0; l < 16; ++l) s += q[16 * j + l] * x[b].qs[16 * j + l];
      isum += w[b].scales[j] * (s - 32 * x[b].bsums[j]);  // sum (q - 32) * x
    }
    sum += table[w[b].d] * x[b].d * static_cast<float>(isum);
  }
  return sum;
}

}  // namespace

const kernel_set& scalar_kernels() {
  static const kernel_set set{"scalar", dot_f32, dot_f16, dot_bf16, dot_q4_0,
                              dot_q8_0, dot_q4_k, dot_q5_k, dot_q6_k};
  return set;
}

}  // namespace laneway::cpu::detail
