// AVX2 activation quantizers for matmul: the AVX2 twins of quant_avx512.cpp, the same arithmetic
// as the scalar Q8_0 / Q8_K quantizers step for step, so the output is bit-identical
// (tests/unit/cpu/test_quant_simd.cpp checks it on every kernel set; see quant_avx512.cpp for the
// formulas). Compiled with -mavx2 -mfma -mf16c; no shared inline functions (see dot_avx2.cpp).
#if defined(__x86_64__)
#include <immintrin.h>

#include "backends/cpu/kernels.hpp"

namespace laneway::cpu::detail {

namespace {

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
  return _mm_cvtsi128_si32(s);
}

inline __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

// 32 i32 (each in [-128, 127]) -> 32 bytes in order (the packs interleave 128-bit lanes).
inline __m256i narrow32(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
  return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

}  // namespace

// x: [n], y: [n/32] Q8_0
void avx2_quantize_q8_0(const float* x, void* y_, int64_t n) {
  auto* y = static_cast<block_q8_0*>(y_);
  for (int64_t b = 0; b < n / qk8_0; ++b, x += qk8_0) {
    const __m256 v[4] = {_mm256_loadu_ps(x), _mm256_loadu_ps(x + 8), _mm256_loadu_ps(x + 16),
                         _mm256_loadu_ps(x + 24)};
    const float amax = hmax(_mm256_max_ps(_mm256_max_ps(abs_ps(v[0]), abs_ps(v[1])),
                                          _mm256_max_ps(abs_ps(v[2]), abs_ps(v[3]))));
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    y[b].d = fp32_to_fp16(d);
    const __m256 s = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; ++k) q[k] = _mm256_cvtps_epi32(_mm256_mul_ps(v[k], s));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs), narrow32(q[0], q[1], q[2], q[3]));
  }
}

// x: [n], y: [n/256] Q8_K
void avx2_quantize_q8_k(const float* x, void* y_, int64_t n) {
  auto* y = static_cast<block_q8_k*>(y_);
  for (int64_t b = 0; b < n / qk_k; ++b, x += qk_k) {
    __m256 amax_v = _mm256_setzero_ps();
    for (int k = 0; k < 32; ++k) amax_v = _mm256_max_ps(amax_v, abs_ps(_mm256_loadu_ps(x + 8 * k)));
    const float amax = hmax(amax_v);
    if (amax == 0.0f) {
      y[b] = block_q8_k{};
      continue;
    }
    float max = 0.0f;  // the first value whose magnitude is amax
    const __m256 amax_b = _mm256_set1_ps(amax);
    for (int k = 0; k < 32; ++k) {
      const int m = _mm256_movemask_ps(_mm256_cmp_ps(abs_ps(_mm256_loadu_ps(x + 8 * k)), amax_b, _CMP_EQ_OQ));
      if (m) {
        max = x[8 * k + __builtin_ctz(static_cast<unsigned>(m))];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const __m256 s = _mm256_set1_ps(iscale);
    const __m256i top = _mm256_set1_epi32(127);
    for (int k = 0; k < 8; ++k) {  // 32 quants per step: bsums 2k and 2k+1
      __m256i q[4];
      for (int j = 0; j < 4; ++j) {
        q[j] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 32 * k + 8 * j), s)), top);
      }
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs + 32 * k), narrow32(q[0], q[1], q[2], q[3]));
      y[b].bsums[2 * k] = static_cast<int16_t>(hsum_i32(_mm256_add_epi32(q[0], q[1])));
      y[b].bsums[2 * k + 1] = static_cast<int16_t>(hsum_i32(_mm256_add_epi32(q[2], q[3])));
    }
    y[b].d = 1.0f / iscale;
  }
}

}  // namespace laneway::cpu::detail
#endif
