// Small AVX2 helpers shared by the AVX2 kernel files (dot_avx2.cpp, dot_avx2_k.cpp). Include it
// only from files compiled with -mavx2 -mfma -mf16c: the helpers have internal linkage, so no
// AVX2 copy of an inline function can be picked by the linker for a baseline file.
#pragma once
#if defined(__x86_64__)
#include <immintrin.h>

namespace laneway::cpu::detail {
namespace {

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

}  // namespace
}  // namespace laneway::cpu::detail
#endif
