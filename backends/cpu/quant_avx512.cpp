// AVX-512 activation quantizers for matmul: the same arithmetic as the scalar Q8_0 / Q8_K
// quantizers in quant_types.cpp / quant_k.cpp (the spec; another engineer keeps those equal to
// llama.cpp's), step for step, so the output is bit-identical (tests/unit/cpu/test_quant_simd.cpp
// compares them on every run: a change to the scalar ones that is not mirrored here fails it).
//   Q8_0: amax = max |x|; d = amax / 127 (stored fp16); id = 127 / amax (0 if amax = 0);
//         q = round_half_even(x * id)
//   Q8_K: m = the first value of largest magnitude; iscale = -127 / m; q = min(127, rhe(iscale x));
//         bsums per 16 quants; d = 1 / iscale (an all-zero block stays all zero)
// round_half_even is vcvtps2dq under the default MXCSR rounding, exactly what round_nearest's
// 1.5 * 2^23 trick computes for |v| < 2^22. Compiled with the AVX-512 flags; no shared inline
// functions (see dot_avx512.cpp).
#if defined(__x86_64__)
#include <immintrin.h>

#include "backends/cpu/kernels.hpp"

namespace laneway::cpu::detail {

// x: [n], y: [n/32] Q8_0
void avx512_quantize_q8_0(const float* x, void* y_, int64_t n) {
  auto* y = static_cast<block_q8_0*>(y_);
  for (int64_t b = 0; b < n / qk8_0; ++b, x += qk8_0) {
    const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    y[b].d = fp32_to_fp16(d);
    const __m512 s = _mm512_set1_ps(id);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs),
                     _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v0, s))));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs + 16),
                     _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v1, s))));
  }
}

// x: [n], y: [n/256] Q8_K
void avx512_quantize_q8_k(const float* x, void* y_, int64_t n) {
  auto* y = static_cast<block_q8_k*>(y_);
  for (int64_t b = 0; b < n / qk_k; ++b, x += qk_k) {
    __m512 amax_v = _mm512_setzero_ps();
    for (int k = 0; k < 16; ++k) amax_v = _mm512_max_ps(amax_v, _mm512_abs_ps(_mm512_loadu_ps(x + 16 * k)));
    const float amax = _mm512_reduce_max_ps(amax_v);
    if (amax == 0.0f) {
      y[b] = block_q8_k{};
      continue;
    }
    float max = 0.0f;  // the first value whose magnitude is amax
    const __m512 amax_b = _mm512_set1_ps(amax);
    for (int k = 0; k < 16; ++k) {
      const __mmask16 m = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + 16 * k)), amax_b, _CMP_EQ_OQ);
      if (m) {
        max = x[16 * k + __builtin_ctz(m)];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const __m512 s = _mm512_set1_ps(iscale);
    const __m512i top = _mm512_set1_epi32(127);
    for (int k = 0; k < 16; ++k) {
      const __m512i q = _mm512_min_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + 16 * k), s)), top);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs + 16 * k), _mm512_cvtepi32_epi8(q));
      y[b].bsums[k] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
    }
    y[b].d = 1.0f / iscale;
  }
}

}  // namespace laneway::cpu::detail
#endif
