// AVX2 dot products of K-quant weight rows with Q8_K activation rows (same contracts as the
// scalar dot_q4_k / dot_q5_k / dot_q6_k). Weights are unsigned (0..15, 0..31, 0..63), so
// vpmaddubsw takes them directly as its u8 operand; per sub-block scales multiply in vpmaddwd;
// the mins (Q4_K/Q5_K) and the -32 offset (Q6_K) come from the activations' bsums.
#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>

#include "backends/cpu/avx2_common.hpp"
#include "backends/cpu/kernels.hpp"

namespace laneway::cpu::detail {

namespace {

// Shared by Q4_K and Q5_K: high(b, c) gives the two 32-byte vectors of fifth bits (already
// shifted to bit 4) for sub-blocks 2c and 2c+1, or zeros for Q4_K.
template <class block_t, class high_fn>
float dot_k4(int64_t n, const block_t* w, const block_q8_k* x, high_fn high) {
  const __m256i m4 = _mm256_set1_epi8(15);
  __m256 acc = _mm256_setzero_ps();
  float min_sum = 0.0f;
  for (int64_t b = 0; b < n / qk_k; ++b) {
    uint8_t scale[8], min[8];
    unpack_scales_k4(w[b].scales, scale, min);
    min_sum += _cvtsh_ss(w[b].dmin) * x[b].d * static_cast<float>(min_correction(min, x[b].bsums));
    __m256i isum = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      const __m256i q = load32(w[b].qs + 32 * c);
      __m256i h0, h1;
      high(w[b], c, &h0, &h1);
      const __m256i lo = _mm256_or_si256(_mm256_and_si256(q, m4), h0);
      const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), h1);
      const __m256i p0 = _mm256_maddubs_epi16(lo, load32(x[b].qs + 64 * c));
      const __m256i p1 = _mm256_maddubs_epi16(hi, load32(x[b].qs + 64 * c + 32));
      isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p0, _mm256_set1_epi16(scale[2 * c])));
      isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p1, _mm256_set1_epi16(scale[2 * c + 1])));
    }
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(_cvtsh_ss(w[b].d) * x[b].d), acc);
  }
  return hsum(acc) - min_sum;
}

}  // namespace

// w: [n/256] Q4_K, x: [n/256] Q8_K
float avx2_dot_q4_k(int64_t n, const void* w, const void* x) {
  return dot_k4(n, static_cast<const block_q4_k*>(w), static_cast<const block_q8_k*>(x),
                q4_k_high_bits);
}

// w: [n/256] Q5_K, x: [n/256] Q8_K; fifth bit of sub-block j, value l = bit j of qh[l].
float avx2_dot_q5_k(int64_t n, const void* w, const void* x) {
  return dot_k4(n, static_cast<const block_q5_k*>(w), static_cast<const block_q8_k*>(x),
                q5_k_high_bits);
}

// w: [n/256] Q6_K, x: [n/256] Q8_K
float avx2_dot_q6_k(int64_t n, const void* w_, const void* x_) {
  const auto* w = static_cast<const block_q6_k*>(w_);
  const auto* x = static_cast<const block_q8_k*>(x_);
  const __m256i m4 = _mm256_set1_epi8(15), m2 = _mm256_set1_epi8(3);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / qk_k; ++b) {
    int32_t offset = 0;  // sum_j scale[j] * bsums[j]; times 32 removes the +32 of the quants
    for (int j = 0; j < 16; ++j) offset += w[b].scales[j] * x[b].bsums[j];
    __m256i isum = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = w[b].ql + 64 * h;
      const int8_t* sc = w[b].scales + 8 * h;
      const int8_t* xq = x[b].qs + 128 * h;
      const __m256i qa = load32(ql), qb = load32(ql + 32), qh = load32(w[b].qh + 32 * h);
      const __m256i q[4] = {
          _mm256_or_si256(_mm256_and_si256(qa, m4),
                          _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4)),
          _mm256_or_si256(_mm256_and_si256(qb, m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qa, 4), m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qb, 4), m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4)),
      };
      for (int k = 0; k < 4; ++k) {  // values 32k .. 32k+31 of this half: scales 2k, 2k+1
        const __m256i p = _mm256_maddubs_epi16(q[k], load32(xq + 32 * k));
        const __m256i s = _mm256_set_m128i(_mm_set1_epi16(sc[2 * k + 1]), _mm_set1_epi16(sc[2 * k]));
        isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, s));
      }
    }
    isum = _mm256_sub_epi32(isum, _mm256_setr_epi32(32 * offset, 0, 0, 0, 0, 0, 0, 0));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(_cvtsh_ss(w[b].d) * x[b].d), acc);
  }
  return hsum(acc);
}

}  // namespace laneway::cpu::detail
#endif
