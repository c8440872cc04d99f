// Small helpers shared by the AVX2 and AVX-512 kernel files (dot_avx2*.cpp, dot_avx512*.cpp).
// Include it only from files compiled with at least -mavx2 -mfma -mf16c: the
// helpers have internal linkage, so no AVX2 copy of an inline function can be picked by the
// linker for a baseline file.
#pragma once
#if defined(__x86_64__)
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "backends/cpu/quant_types.hpp"

namespace laneway::cpu::detail {
namespace {

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Q4_K/Q5_K: the 12 packed bytes -> scale[8], min[8] (6 bits each), four at a time in 32-bit
// words: scale 0-3 / min 0-3 are the low 6 bits of bytes 0-3 / 4-7; scale 4-7 / min 4-7 take
// their low nibble from bytes 8-11 and their top 2 bits from the top of bytes 0-3 / 4-7.
inline void unpack_scales_k4(const uint8_t* packed, uint8_t* scale, uint8_t* min) {
  uint32_t u[3];
  std::memcpy(u, packed, 12);
  const uint32_t s03 = u[0] & 0x3f3f3f3fu, m03 = u[1] & 0x3f3f3f3fu;
  const uint32_t s47 = (u[2] & 0x0f0f0f0fu) | (((u[0] >> 6) & 0x03030303u) << 4);
  const uint32_t m47 = ((u[2] >> 4) & 0x0f0f0f0fu) | (((u[1] >> 6) & 0x03030303u) << 4);
  std::memcpy(scale, &s03, 4);
  std::memcpy(scale + 4, &s47, 4);
  std::memcpy(min, &m03, 4);
  std::memcpy(min + 4, &m47, 4);
}

// The `high` argument of the Q4_K/Q5_K dot kernels: the two 32-byte vectors of fifth bits, already
// shifted to bit 4, for sub-blocks 2c and 2c+1 — none for Q4_K; bit j of qh[l] for Q5_K.
inline void q4_k_high_bits(const block_q4_k&, int, __m256i* h0, __m256i* h1) {
  *h0 = _mm256_setzero_si256();
  *h1 = _mm256_setzero_si256();
}

inline void q5_k_high_bits(const block_q5_k& b, int c, __m256i* h0, __m256i* h1) {
  const __m256i qh = load32(b.qh);
  const __m256i one = _mm256_set1_epi8(1);
  const __m128i s0 = _mm_cvtsi32_si128(2 * c), s1 = _mm_cvtsi32_si128(2 * c + 1);
  *h0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(qh, s0), one), 4);
  *h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(qh, s1), one), 4);
}

// sum_j min[j] * (bsums[2j] + bsums[2j+1]): the Q4_K/Q5_K min term against Q8_K activations
inline int32_t min_correction(const uint8_t* min, const int16_t* bsums) {
  int32_t s = 0;
  for (int j = 0; j < 8; ++j) s += min[j] * (bsums[2 * j] + bsums[2 * j + 1]);
  return s;
}

}  // namespace
}  // namespace laneway::cpu::detail
#endif
