// AVX2 + FMA + F16C attention kernels (contracts in forward_attention.hpp; the plain loops in
// forward_attention.cpp are the reference). Compiled with -mavx2 -mfma -mf16c and used only when
// cpu::active_isa() is avx2 or avx512 (such a CPU has AVX2). f16 rows are widened in registers.
// Scores: four K rows against one query head at a time (one q load feeds four FMAs), summed
// horizontally four at once. V: acc_g = acc_g + w_i * v_i with FMA over head_dim, rounded to f16
// after every row for an f16 cache (vcvtps2ph/vcvtph2ps in registers), 64 (or 32) values of acc_g
// held in registers across a block of 32 rows.
// Like backends/cpu/dot_avx2.cpp, this file must not instantiate inline functions shared with
// other files (the linker could keep the AVX2 copy), so it uses only its own helpers.
#include "backends/engine/forward_attention.hpp"

#include <algorithm>

#if defined(__x86_64__)
#include <immintrin.h>

namespace laneway::engine::detail {
namespace {

// Values [j, j + 8) / value j of one head's row (row already points at the head's first value).
template <bool F16>
inline __m256 load8(const void* row, int64_t j) {
  if constexpr (F16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(row) + j)));
  } else {
    return _mm256_loadu_ps(static_cast<const float*>(row) + j);
  }
}
template <bool F16>
inline float load1(const void* row, int64_t j) {
  if constexpr (F16) {
    return _cvtsh_ss(static_cast<const uint16_t*>(row)[j]);
  } else {
    return static_cast<const float*>(row)[j];
  }
}

inline const void* head_row(const kv_run& r, int32_t i) {
  const int64_t bytes_per_value = r.type == cpu::dtype::f16 ? 2 : 4;
  return r.base + static_cast<std::size_t>(i) * r.row_bytes + r.offset * bytes_per_value;
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// {sum a, sum b, sum c, sum d}
inline __m128 hsum4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

// f32 rows: float FMA sums.
void score_rows_f32(const float* q, int64_t group, int64_t d, const kv_run& k, float scale,
                    float* score, int64_t ld) {
  const int64_t d8 = d & ~int64_t{7};
  int32_t i = 0;
  for (; i + 4 <= k.n; i += 4) {
    const void* r0 = head_row(k, i);
    const void* r1 = head_row(k, i + 1);
    const void* r2 = head_row(k, i + 2);
    const void* r3 = head_row(k, i + 3);
    for (int64_t g = 0; g < group; ++g) {
      const float* qg = q + g * d;  // qg: [head_dim]
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (int64_t j = 0; j < d8; j += 8) {
        const __m256 qv = _mm256_loadu_ps(qg + j);
        a0 = _mm256_fmadd_ps(qv, load8<false>(r0, j), a0);
        a1 = _mm256_fmadd_ps(qv, load8<false>(r1, j), a1);
        a2 = _mm256_fmadd_ps(qv, load8<false>(r2, j), a2);
        a3 = _mm256_fmadd_ps(qv, load8<false>(r3, j), a3);
      }
      __m128 s = hsum4(a0, a1, a2, a3);
      if (d8 < d) {  // head_dim not a multiple of 8
        float tail[4] = {0, 0, 0, 0};
        for (int64_t j = d8; j < d; ++j) {
          tail[0] += qg[j] * load1<false>(r0, j);
          tail[1] += qg[j] * load1<false>(r1, j);
          tail[2] += qg[j] * load1<false>(r2, j);
          tail[3] += qg[j] * load1<false>(r3, j);
        }
        s = _mm_add_ps(s, _mm_loadu_ps(tail));
      }
      _mm_storeu_ps(score + g * ld + i, _mm_mul_ps(s, _mm_set1_ps(scale)));
    }
  }
  for (; i < k.n; ++i) {
    const void* r = head_row(k, i);
    for (int64_t g = 0; g < group; ++g) {
      const float* qg = q + g * d;
      __m256 a = _mm256_setzero_ps();
      for (int64_t j = 0; j < d8; j += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(qg + j), load8<false>(r, j), a);
      float sum = hsum(a);
      for (int64_t j = d8; j < d; ++j) sum += qg[j] * load1<false>(r, j);
      score[g * ld + i] = scale * sum;
    }
  }
}

// An f16 accumulator kept in f32 registers: round to f16 and back after every step.
template <bool F16>
inline __m256 round_acc8(__m256 a) {
  if constexpr (F16) {
    return _mm256_cvtph_ps(_mm256_cvtps_ph(a, _MM_FROUND_TO_NEAREST_INT));
  } else {
    return a;
  }
}
template <bool F16>
inline float round_acc1(float a) {
  if constexpr (F16) {
    return _cvtsh_ss(_cvtss_sh(a, _MM_FROUND_TO_NEAREST_INT));
  } else {
    return a;
  }
}
inline float fma1(float a, float b, float c) {
  return _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c)));
}

// One step of the V sum for NV vectors of 8 values (acc x, rows at value j): x = round(x * r) when
// r != 1, then x = round(x + w * v).
template <bool F16, int NV>
inline void step8(__m256 (&x)[NV], const void* row, int64_t j, float w, float r) {
  if (r != 1.0f) {
    const __m256 rv = _mm256_set1_ps(r);
#pragma GCC unroll 8
    for (int k = 0; k < NV; ++k) x[k] = round_acc8<F16>(_mm256_mul_ps(x[k], rv));
  }
  const __m256 wv = _mm256_set1_ps(w);
#pragma GCC unroll 8
  for (int k = 0; k < NV; ++k) x[k] = round_acc8<F16>(_mm256_fmadd_ps(load8<F16>(row, j + 8 * k), wv, x[k]));
}

// Rows [i0, i1) into acc values [j, j + 8 NV) of one query head: the accumulator stays in
// registers over the rows, and NV (8 where head_dim allows) independent chains keep the FMA and
// conversion units busy (one chain alone waits on fma -> vcvtps2ph -> vcvtph2ps every row).
template <bool F16, int NV>
inline void accumulate_block(const float* w, const float* rescale, const kv_run& v, int32_t i0,
                             int32_t i1, int64_t j, float* acc) {
  __m256 x[NV];  // every loop over NV is unrolled so that x stays in registers (not at -O2 else)
#pragma GCC unroll 8
  for (int k = 0; k < NV; ++k) x[k] = _mm256_loadu_ps(acc + j + 8 * k);
  for (int32_t i = i0; i < i1; ++i) step8<F16, NV>(x, head_row(v, i), j, w[i], rescale[i]);
#pragma GCC unroll 8
  for (int k = 0; k < NV; ++k) _mm256_storeu_ps(acc + j + 8 * k, x[k]);
}

// Rows are taken in blocks of 32 (their head slices stay in L1 across the passes over head_dim).
template <bool F16>
void accumulate_rows(const float* w, const float* rescale, int64_t ld, int64_t group, int64_t d,
                     const kv_run& v, float* acc) {
  constexpr int32_t row_block = 32;
  const int64_t d8 = d & ~int64_t{7}, d32 = d & ~int64_t{31};
  for (int32_t i0 = 0; i0 < v.n; i0 += row_block) {
    const int32_t i1 = std::min(v.n, i0 + row_block);
    for (int64_t g = 0; g < group; ++g) {
      const float* wg = w + g * ld;  // wg, rg: this head's weights and rescales
      const float* rg = rescale + g * ld;
      float* a = acc + g * d;  // a: [head_dim]
      int64_t j = 0;
      for (; j + 64 <= d8; j += 64) accumulate_block<F16, 8>(wg, rg, v, i0, i1, j, a);
      for (; j < d32; j += 32) accumulate_block<F16, 4>(wg, rg, v, i0, i1, j, a);
      for (; j < d8; j += 8) accumulate_block<F16, 1>(wg, rg, v, i0, i1, j, a);
      for (; j < d; ++j) {
        float x = a[j];
        for (int32_t i = i0; i < i1; ++i) {
          if (rg[i] != 1.0f) x = round_acc1<F16>(x * rg[i]);
          x = round_acc1<F16>(fma1(load1<F16>(head_row(v, i), j), wg[i], x));
        }
        a[j] = x;
      }
    }
  }
}

// f16 rows against f16-valued q, summed as dot_f16_rows in forward_attention.cpp describes (the
// peer's ggml_vec_dot_f16 lanes; products of f16 values are exact, so FMA changes nothing).
void score_rows_f16(const float* q, int64_t group, int64_t d, const kv_run& k, float scale,
                    float* score, int64_t ld) {
  const int64_t d32 = d & ~int64_t{31};
  for (int32_t i = 0; i < k.n; ++i) {
    const void* r = head_row(k, i);
    for (int64_t g = 0; g < group; ++g) {
      const float* qg = q + g * d;  // qg: [head_dim]
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (int64_t j = 0; j < d32; j += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(qg + j), load8<true>(r, j), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(qg + j + 8), load8<true>(r, j + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(qg + j + 16), load8<true>(r, j + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(qg + j + 24), load8<true>(r, j + 24), a3);
      }
      const __m256 lane = _mm256_add_ps(_mm256_add_ps(a0, a2), _mm256_add_ps(a1, a3));
      const __m128 t = _mm_add_ps(_mm256_castps256_ps128(lane), _mm256_extractf128_ps(lane, 1));
      const __m128 t2 = _mm_hadd_ps(t, t);
      double sum = _mm_cvtss_f32(_mm_hadd_ps(t2, t2));
      for (int64_t j = d32; j < d; ++j) sum += static_cast<double>(qg[j] * load1<true>(r, j));
      score[g * ld + i] = scale * static_cast<float>(sum);
    }
  }
}

void score_avx2(const float* q, int64_t group, int64_t d, const kv_run& k, float scale, float* score,
                int64_t ld, float* /*tmp*/) {
  if (k.type == cpu::dtype::f16) {
    score_rows_f16(q, group, d, k, scale, score, ld);
  } else {
    score_rows_f32(q, group, d, k, scale, score, ld);
  }
}

void accumulate_avx2(const float* w, const float* rescale, int64_t ld, int64_t group, int64_t d,
                     const kv_run& v, float* acc, float* /*tmp*/) {
  if (v.type == cpu::dtype::f16) {
    accumulate_rows<true>(w, rescale, ld, group, d, v, acc);
  } else {
    accumulate_rows<false>(w, rescale, ld, group, d, v, acc);
  }
}

}  // namespace

const attend_kernels* avx2_attend_kernels() {
  static const attend_kernels set{score_avx2, accumulate_avx2};
  return &set;
}

}  // namespace laneway::engine::detail

#else
namespace laneway::engine::detail {
const attend_kernels* avx2_attend_kernels() { return nullptr; }
}  // namespace laneway::engine::detail
#endif
