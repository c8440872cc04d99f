// AVX2 + FMA + F16C dot products, the same contracts as dot_scalar.cpp (compiled with
// -mavx2 -mfma -mf16c, used only when the CPU reports avx2 and fma). Integer blocks use
// vpmaddubsw (u8 x s8 -> pairs of i16) then vpmaddwd with ones or scales (-> i32), scaled once
// per block in float. This file must not instantiate inline functions shared with other files
// (the linker could keep the AVX2 copy), so it uses only block structs, avx2_common.hpp and its
// own helpers.
#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>

#include "backends/cpu/avx2_common.hpp"
#include "backends/cpu/kernels.hpp"

namespace laneway::cpu::detail {

namespace {

inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

// sum over 32 lanes of a (s8) * b (s8), as 8 i32 partial sums: |a| (u8) x (b * sign(a)) (s8).
inline __m256i dot_s8_i32(__m256i a, __m256i b) {
  const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
  return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

// w, x: [n] float
float dot_f32(int64_t n, const void* w_, const void* x_) {
  const auto* w = static_cast<const float*>(w_);
  const auto* x = static_cast<const float*>(x_);
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 16), _mm256_loadu_ps(x + i + 16), a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 24), _mm256_loadu_ps(x + i + 24), a3);
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
  float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; ++i) s += w[i] * x[i];
  return s;
}

// Float dot with a converted weight: load8(p) turns 8 stored values into 8 floats.
template <class elem_t, class load8_fn, class one_fn>
float dot_converted(int64_t n, const elem_t* w, const float* x, load8_fn load8, one_fn one) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_fmadd_ps(load8(w + i), _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(load8(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
    a2 = _mm256_fmadd_ps(load8(w + i + 16), _mm256_loadu_ps(x + i + 16), a2);
    a3 = _mm256_fmadd_ps(load8(w + i + 24), _mm256_loadu_ps(x + i + 24), a3);
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(load8(w + i), _mm256_loadu_ps(x + i), a0);
  float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; ++i) s += one(w[i]) * x[i];
  return s;
}

// w: [n] fp16, x: [n] float
float dot_f16(int64_t n, const void* w, const void* x) {
  return dot_converted(
      n, static_cast<const uint16_t*>(w), static_cast<const float*>(x),
      [](const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); },
      [](uint16_t h) { return h2f(h); });
}

// w: [n] bf16, x: [n] float (bf16 is the top half of an fp32: widen and shift)
float dot_bf16(int64_t n, const void* w, const void* x) {
  return dot_converted(
      n, static_cast<const uint16_t*>(w), static_cast<const float*>(x),
      [](const uint16_t* p) {
        const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
      },
      [](uint16_t h) {
        const uint32_t u = static_cast<uint32_t>(h) << 16;
        float f;
        std::memcpy(&f, &u, 4);
        return f;
      });
}

// Q4_0 quants of one block as 32 signed bytes in value order (-8..7).
inline __m256i unpack_q4_0(const block_q4_0& b) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
  const __m256i nib = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw),
                                       _mm256_set1_epi8(15));
  return _mm256_sub_epi8(nib, _mm256_set1_epi8(8));
}

// w: [n/32] Q8_0, x: [n/32] Q8_0
float dot_q8_0(int64_t n, const void* w_, const void* x_) {
  const auto* w = static_cast<const block_q8_0*>(w_);
  const auto* x = static_cast<const block_q8_0*>(x_);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / qk8_0; ++b) {
    const __m256i p = dot_s8_i32(load32(w[b].qs), load32(x[b].qs));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(h2f(w[b].d) * h2f(x[b].d)), acc);
  }
  return hsum(acc);
}

// w: [n/32] Q4_0, x: [n/32] Q8_0
float dot_q4_0(int64_t n, const void* w_, const void* x_) {
  const auto* w = static_cast<const block_q4_0*>(w_);
  const auto* x = static_cast<const block_q8_0*>(x_);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / qk4_0; ++b) {
    const __m256i p = dot_s8_i32(unpack_q4_0(w[b]), load32(x[b].qs));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(h2f(w[b].d) * h2f(x[b].d)), acc);
  }
  return hsum(acc);
}

// A tile of RM weight rows x RN activation rows for 32-value blocks (prefill): each weight block
// is unpacked and |w| taken once for RN tokens, each activation block loaded once for RM rows.
// unpack(w block) -> 32 signed bytes. y[t * ldy + r] for r < RM, t < RN.
template <int RM, int RN, class block_t, class unpack_fn>
void dot_tile_b32(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* x, size_t x_stride,
                  float* y, int64_t ldy, unpack_fn unpack) {
  // Every loop over RM / RN is unrolled so that acc stays in registers (at -O2 GCC would keep
  // it on the stack, and the store-forwarding chain would cost 3x).
  __m256 acc[RM][RN];
#pragma GCC unroll 8
  for (int r = 0; r < RM; ++r) {
#pragma GCC unroll 8
    for (int t = 0; t < RN; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < n / 32; ++b) {
    __m256i q[RM], u[RM];
    __m256 dw[RM];
#pragma GCC unroll 8
    for (int r = 0; r < RM; ++r) {
      const block_t& wb = reinterpret_cast<const block_t*>(w + r * w_stride)[b];
      q[r] = unpack(wb);
      u[r] = _mm256_sign_epi8(q[r], q[r]);
      dw[r] = _mm256_set1_ps(h2f(wb.d));
    }
#pragma GCC unroll 8
    for (int t = 0; t < RN; ++t) {
      const block_q8_0& xb = reinterpret_cast<const block_q8_0*>(x + t * x_stride)[b];
      const __m256i v = load32(xb.qs);
      const __m256 dx = _mm256_set1_ps(h2f(xb.d));
#pragma GCC unroll 8
      for (int r = 0; r < RM; ++r) {
        const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(u[r], _mm256_sign_epi8(v, q[r])), ones);
        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(dw[r], dx), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < RM; ++r) {
    for (int t = 0; t < RN; ++t) y[t * ldy + r] = hsum(acc[r][t]);
  }
}

// 2 rows x 4 tokens: 8 accumulators + 4 weight vectors fit the 16 ymm registers. 2x2 .. 4x4
// all measured within noise of each other (~54 GOP/s per core on the dev machine) once the
// loops were unrolled; the per-pair sign/maddubs/madd/cvt/fma chain is the limit.
constexpr int tile_rm = 2, tile_rn = 4;

void dot_q8_0_tile(int64_t n, const void* w, size_t w_stride, const void* x, size_t x_stride,
                   float* y, int64_t ldy) {
  dot_tile_b32<tile_rm, tile_rn, block_q8_0>(n, static_cast<const uint8_t*>(w), w_stride,
                                             static_cast<const uint8_t*>(x), x_stride, y, ldy,
                                             [](const block_q8_0& b) { return load32(b.qs); });
}

void dot_q4_0_tile(int64_t n, const void* w, size_t w_stride, const void* x, size_t x_stride,
                   float* y, int64_t ldy) {
  dot_tile_b32<tile_rm, tile_rn, block_q4_0>(n, static_cast<const uint8_t*>(w), w_stride,
                                             static_cast<const uint8_t*>(x), x_stride, y, ldy,
                                             [](const block_q4_0& b) { return unpack_q4_0(b); });
}

}  // namespace

// K-quant kernels live in dot_avx2_k.cpp, the activation quantizers in quant_avx2.cpp.
void avx2_quantize_q8_0(const float* x, void* y, int64_t n);
void avx2_quantize_q8_k(const float* x, void* y, int64_t n);
float avx2_dot_q4_k(int64_t n, const void* w, const void* x);
float avx2_dot_q5_k(int64_t n, const void* w, const void* x);
float avx2_dot_q6_k(int64_t n, const void* w, const void* x);

const kernel_set* avx2_kernels() {
  static const kernel_set set{
      .name = "avx2",
      .f32 = dot_f32,
      .f16 = dot_f16,
      .bf16 = dot_bf16,
      .q4_0 = dot_q4_0,
      .q8_0 = dot_q8_0,
      .q4_k = avx2_dot_q4_k,
      .q5_k = avx2_dot_q5_k,
      .q6_k = avx2_dot_q6_k,
      .q8_0_tile = dot_q8_0_tile,
      .q4_0_tile = dot_q4_0_tile,
      .tile_rows = tile_rm,
      .tile_tokens = tile_rn,
      .quantize_q8_0 = avx2_quantize_q8_0,
      .quantize_q8_k = avx2_quantize_q8_k,
  };
  return &set;
}

}  // namespace laneway::cpu::detail

#else  // not x86-64: no AVX2 kernels
#include "backends/cpu/kernels.hpp"
namespace laneway::cpu::detail {
const kernel_set* avx2_kernels() { return nullptr; }
}  // namespace laneway::cpu::detail
#endif
