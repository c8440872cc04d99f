// AVX-512 (F, BW, VL, VNNI) + FMA + F16C kernels, the same contracts as dot_scalar.cpp (compiled
// with -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mfma -mf16c, used only when the CPU reports
// all of them). Integer blocks use vpdpbusd (u8 x s8, 4 products summed into each i32 lane).
//
// Single rows (decode): |w| (u8) x (x * sign w) (s8) per 32-value block in one 256-bit vpdpbusd,
// then one cvt + fma with d_w * d_x.
//
// Packed panels (prefill, n_tokens >= a few): 8 weight rows are re-laid-out once per call so that
// for each block, register k (k = 0..3) holds bytes 8k..8k+7 of each of the 8 rows, stored as
// w + 128 (u8). One 8-byte piece of an activation block, broadcast to all 8 qwords, then feeds
// vpdpbusd for all 8 rows at once: i32 lane 2r+h of the sum is row r's dot over the 16 bytes
// {8k+4h .. 8k+4h+3 : k = 0..3}. The +128 is undone by starting the sum at -128 * (those 16 x
// bytes summed), precomputed per activation block. The float scaling (cvt, d_w * d_x, fma) then
// happens once per block for 8 rows instead of once per row: ~3x fewer vector ops per
// (row, token, block) than the 256-bit per-pair kernels.
//   panel block (320 bytes): u8 w[4][8 rows][8 bytes]; float d[16] (lane 2r+h = d of row r)
//   packed x row: int8 qs[n] (block after block); then per block {float d; i32 c0, c1; pad}
//     with c_h = -128 * sum_k sum_{j<4} qs[8k + 4h + j]
// Like the AVX2 files, this one defines no inline function shared with other files.
#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>

#include "backends/cpu/avx2_common.hpp"
#include "backends/cpu/kernels.hpp"

namespace laneway::cpu::detail {

namespace {

inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

inline float hsum512(__m512 v) { return _mm512_reduce_add_ps(v); }

// ---- float weights -----------------------------------------------------------------------------

// Float dot with a converted weight: load16(p) turns 16 stored values into 16 floats, tail(p, m)
// the values under mask m (zeros elsewhere).
template <class elem_t, class load16_fn, class tail_fn>
float dot_converted(int64_t n, const elem_t* w, const float* x, load16_fn load16, tail_fn tail) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    a0 = _mm512_fmadd_ps(load16(w + i), _mm512_loadu_ps(x + i), a0);
    a1 = _mm512_fmadd_ps(load16(w + i + 16), _mm512_loadu_ps(x + i + 16), a1);
    a2 = _mm512_fmadd_ps(load16(w + i + 32), _mm512_loadu_ps(x + i + 32), a2);
    a3 = _mm512_fmadd_ps(load16(w + i + 48), _mm512_loadu_ps(x + i + 48), a3);
  }
  for (; i + 16 <= n; i += 16) a0 = _mm512_fmadd_ps(load16(w + i), _mm512_loadu_ps(x + i), a0);
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    a1 = _mm512_fmadd_ps(tail(w + i, m), _mm512_maskz_loadu_ps(m, x + i), a1);
  }
  return hsum512(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

// w, x: [n] float
float dot_f32(int64_t n, const void* w, const void* x) {
  return dot_converted(
      n, static_cast<const float*>(w), static_cast<const float*>(x),
      [](const float* p) { return _mm512_loadu_ps(p); },
      [](const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); });
}

// w: [n] fp16, x: [n] float
float dot_f16(int64_t n, const void* w, const void* x) {
  return dot_converted(
      n, static_cast<const uint16_t*>(w), static_cast<const float*>(x),
      [](const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); },
      [](const uint16_t* p, __mmask16 m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); });
}

// w: [n] bf16, x: [n] float (bf16 is the top half of an fp32: widen and shift)
float dot_bf16(int64_t n, const void* w, const void* x) {
  return dot_converted(
      n, static_cast<const uint16_t*>(w), static_cast<const float*>(x),
      [](const uint16_t* p) {
        const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
        return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
      },
      [](const uint16_t* p, __mmask16 m) {
        const __m512i v = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p));
        return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
      });
}

// ---- 32-value blocks, one row at a time --------------------------------------------------------

// Q4_0 quants of one block as 32 signed bytes in value order (-8..7).
inline __m256i unpack_q4_0(const block_q4_0& b) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
  const __m256i nib = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw),
                                       _mm256_set1_epi8(15));
  return _mm256_sub_epi8(nib, _mm256_set1_epi8(8));
}

// 8 i32 partial sums of a (s8) . b (s8) over 32 lanes: |a| (u8) x (b * sign a) (s8).
inline __m256i dot_s8(__m256i a, __m256i b) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

// unpack(w block) -> 32 signed bytes. w: [n/32] blocks, x: [n/32] Q8_0
template <class block_t, class unpack_fn>
float dot_b32(int64_t n, const block_t* w, const block_q8_0* x, unpack_fn unpack) {
  const int64_t nb = n / 32;
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t b = 0;
  for (; b + 4 <= nb; b += 4) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const __m256i p = dot_s8(unpack(w[b + k]), load32(x[b + k].qs));
      acc[k] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(h2f(w[b + k].d) * h2f(x[b + k].d)), acc[k]);
    }
  }
  for (; b < nb; ++b) {
    const __m256i p = dot_s8(unpack(w[b]), load32(x[b].qs));
    acc[0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(h2f(w[b].d) * h2f(x[b].d)), acc[0]);
  }
  return hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
}

// w: [n/32] Q8_0, x: [n/32] Q8_0
float dot_q8_0(int64_t n, const void* w, const void* x) {
  return dot_b32(n, static_cast<const block_q8_0*>(w), static_cast<const block_q8_0*>(x),
                 [](const block_q8_0& b) { return load32(b.qs); });
}

// w: [n/32] Q4_0, x: [n/32] Q8_0
float dot_q4_0(int64_t n, const void* w, const void* x) {
  return dot_b32(n, static_cast<const block_q4_0*>(w), static_cast<const block_q8_0*>(x),
                 [](const block_q4_0& b) { return unpack_q4_0(b); });
}

// ---- packed panels (layout at the top of the file) ---------------------------------------------

constexpr int panel_rows = 8;
constexpr int panel_tokens = 8;  // 8 sums + 8 accumulators + 5 panel registers of the 32
constexpr size_t panel_block_bytes = 4 * 64 + 16 * sizeof(float);

struct x_block_info {
  float d;
  int32_t c[2];  // -128 * the 16 bytes each lane half sees, summed
  int32_t pad;
};

size_t panel_bytes(int64_t n) { return static_cast<size_t>(n / 32) * panel_block_bytes; }
size_t packed_x_bytes(int64_t n) { return static_cast<size_t>(n / 32) * (32 + sizeof(x_block_info)); }

// 8 rows of one block (r0..r7: 32 signed bytes each) and their fp16 scales d -> one panel block.
inline void store_panel_block(__m256i r0, __m256i r1, __m256i r2, __m256i r3, __m256i r4, __m256i r5,
                              __m256i r6, __m256i r7, __m128i d, uint8_t* out) {
  const __m256i bias = _mm256_set1_epi8(static_cast<char>(0x80));
  const auto pair = [&](__m256i a, __m256i b) {  // qwords 0-3 = row a, qwords 4-7 = row b, +128
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_xor_si256(a, bias)), _mm256_xor_si256(b, bias), 1);
  };
  const __m512i p01 = pair(r0, r1), p23 = pair(r2, r3), p45 = pair(r4, r5), p67 = pair(r6, r7);
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    // qword k of rows 0..3 from (p01, p23) into qwords 0-3, of rows 4..7 from (p45, p67) into 4-7
    const __m512i idx = _mm512_setr_epi64(k, 4 + k, 8 + k, 12 + k, k, 4 + k, 8 + k, 12 + k);
    const __m512i lo = _mm512_permutex2var_epi64(p01, idx, p23);
    const __m512i hi = _mm512_permutex2var_epi64(p45, idx, p67);
    _mm512_store_si512(out + 64 * k, _mm512_mask_blend_epi64(0xF0, lo, hi));
  }
  // d: 8 fp16 -> 16 floats, lane 2r and 2r+1 = d of row r
  const __m512 dr = _mm512_castps256_ps512(_mm256_cvtph_ps(d));
  _mm512_store_ps(out + 4 * 64,
                  _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7), dr));
}

// w: 8 rows of [n/32] blocks, w_stride bytes apart -> panel (64-byte aligned)
template <class block_t, class unpack_fn>
void pack_panel_b32(int64_t n, const uint8_t* w, size_t w_stride, uint8_t* panel, unpack_fn unpack) {
  for (int64_t b = 0; b < n / 32; ++b, panel += panel_block_bytes) {
    const auto row = [&](int r) -> const block_t& { return reinterpret_cast<const block_t*>(w + r * w_stride)[b]; };
    const __m128i d = _mm_setr_epi16(static_cast<short>(row(0).d), static_cast<short>(row(1).d),
                                     static_cast<short>(row(2).d), static_cast<short>(row(3).d),
                                     static_cast<short>(row(4).d), static_cast<short>(row(5).d),
                                     static_cast<short>(row(6).d), static_cast<short>(row(7).d));
    store_panel_block(unpack(row(0)), unpack(row(1)), unpack(row(2)), unpack(row(3)), unpack(row(4)),
                      unpack(row(5)), unpack(row(6)), unpack(row(7)), d, panel);
  }
}

void pack_q8_0(int64_t n, const void* w, size_t w_stride, void* panel) {
  pack_panel_b32<block_q8_0>(n, static_cast<const uint8_t*>(w), w_stride, static_cast<uint8_t*>(panel),
                             [](const block_q8_0& b) { return load32(b.qs); });
}

void pack_q4_0(int64_t n, const void* w, size_t w_stride, void* panel) {
  pack_panel_b32<block_q4_0>(n, static_cast<const uint8_t*>(w), w_stride, static_cast<uint8_t*>(panel),
                             [](const block_q4_0& b) { return unpack_q4_0(b); });
}

// x: [n/32] Q8_0 -> packed x row
void pack_x(int64_t n, const void* x_, void* out_) {
  const auto* x = static_cast<const block_q8_0*>(x_);
  auto* qs = static_cast<int8_t*>(out_);
  auto* info = reinterpret_cast<x_block_info*>(qs + n);
  for (int64_t b = 0; b < n / 32; ++b) {
    std::memcpy(qs + 32 * b, x[b].qs, 32);
    int32_t c[2] = {0, 0};
    for (int j = 0; j < 32; ++j) c[(j / 4) % 2] += x[b].qs[j];
    info[b] = x_block_info{h2f(x[b].d), {-128 * c[0], -128 * c[1]}, 0};
  }
}

// panel (8 rows) x RN packed activation rows -> y[t * ldy + r]; prefetches [pf, pf_end) spread
// over the blocks (see panel_tile_fn).
template <int RN>
void panel_tile_n(int64_t n, const uint8_t* panel, const uint8_t* x, size_t x_stride, float* y, int64_t ldy,
                  const uint8_t* pf, const uint8_t* pf_end) {
  const int64_t nb = n / 32;
  const size_t pf_step = pf < pf_end ? (static_cast<size_t>(pf_end - pf) / 64 + nb) / nb * 64 : 0;
  __m512 acc[RN];
#pragma GCC unroll 8
  for (int t = 0; t < RN; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b, panel += panel_block_bytes) {
    for (const uint8_t* end = pf + pf_step; pf < end; pf += 64) _mm_prefetch(reinterpret_cast<const char*>(pf), _MM_HINT_T1);
    const __m512i w0 = _mm512_load_si512(panel), w1 = _mm512_load_si512(panel + 64);
    const __m512i w2 = _mm512_load_si512(panel + 128), w3 = _mm512_load_si512(panel + 192);
    const __m512 dw = _mm512_load_ps(panel + 256);
#pragma GCC unroll 8
    for (int t = 0; t < RN; ++t) {
      const uint8_t* xq = x + t * x_stride + 32 * b;
      const auto* info = reinterpret_cast<const x_block_info*>(x + t * x_stride + n) + b;
      int64_t q[4], c;
      std::memcpy(q, xq, 32);
      std::memcpy(&c, info->c, 8);
      __m512i s = _mm512_set1_epi64(c);
      s = _mm512_dpbusd_epi32(s, w0, _mm512_set1_epi64(q[0]));
      s = _mm512_dpbusd_epi32(s, w1, _mm512_set1_epi64(q[1]));
      s = _mm512_dpbusd_epi32(s, w2, _mm512_set1_epi64(q[2]));
      s = _mm512_dpbusd_epi32(s, w3, _mm512_set1_epi64(q[3]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_set1_ps(info->d)), acc[t]);
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < RN; ++t) {
    // lane 2r + lane 2r+1 -> row r, then the even lanes
    const __m512 s = _mm512_add_ps(acc[t], _mm512_permute_ps(acc[t], 0xB1));
    const __m256i even = _mm512_cvtepi64_epi32(_mm512_castps_si512(s));
    _mm256_storeu_ps(y + t * ldy, _mm256_castsi256_ps(even));
  }
}

void panel_tile(int64_t n, const void* panel_, const void* x_, size_t x_stride, int64_t n_tok, float* y,
                int64_t ldy, const void* prefetch, size_t prefetch_bytes) {
  const auto* panel = static_cast<const uint8_t*>(panel_);
  const auto* x = static_cast<const uint8_t*>(x_);
  const auto* pf = static_cast<const uint8_t*>(prefetch);
  const uint8_t* pf_end = pf ? pf + prefetch_bytes : pf;
  switch (n_tok) {
    case 8: return panel_tile_n<8>(n, panel, x, x_stride, y, ldy, pf, pf_end);
    case 7: return panel_tile_n<7>(n, panel, x, x_stride, y, ldy, pf, pf_end);
    case 6: return panel_tile_n<6>(n, panel, x, x_stride, y, ldy, pf, pf_end);
    case 5: return panel_tile_n<5>(n, panel, x, x_stride, y, ldy, pf, pf_end);
    case 4: return panel_tile_n<4>(n, panel, x, x_stride, y, ldy, pf, pf_end);
    case 3: return panel_tile_n<3>(n, panel, x, x_stride, y, ldy, pf, pf_end);
    case 2: return panel_tile_n<2>(n, panel, x, x_stride, y, ldy, pf, pf_end);
    case 1: return panel_tile_n<1>(n, panel, x, x_stride, y, ldy, pf, pf_end);
    default: return;
  }
}

}  // namespace

// K-quant kernels live in dot_avx512_k.cpp, the activation quantizers in quant_avx512.cpp.
void avx512_quantize_q8_0(const float* x, void* y, int64_t n);
void avx512_quantize_q8_k(const float* x, void* y, int64_t n);
float avx512_dot_q4_k(int64_t n, const void* w, const void* x);
float avx512_dot_q5_k(int64_t n, const void* w, const void* x);
float avx512_dot_q6_k(int64_t n, const void* w, const void* x);

const kernel_set* avx512_kernels() {
  static const kernel_set set{
      .name = "avx512",
      .f32 = dot_f32,
      .f16 = dot_f16,
      .bf16 = dot_bf16,
      .q4_0 = dot_q4_0,
      .q8_0 = dot_q8_0,
      .q4_k = avx512_dot_q4_k,
      .q5_k = avx512_dot_q5_k,
      .q6_k = avx512_dot_q6_k,
      .pack_q8_0 = pack_q8_0,
      .pack_q4_0 = pack_q4_0,
      .pack_x = pack_x,
      .panel_tile = panel_tile,
      .panel_rows = panel_rows,
      .panel_tokens = panel_tokens,
      .panel_bytes = panel_bytes,
      .packed_x_bytes = packed_x_bytes,
      .quantize_q8_0 = avx512_quantize_q8_0,
      .quantize_q8_k = avx512_quantize_q8_k,
  };
  return &set;
}

}  // namespace laneway::cpu::detail

#else  // not x86-64: no AVX-512 kernels
#include "backends/cpu/kernels.hpp"
namespace laneway::cpu::detail {
const kernel_set* avx512_kernels() { return nullptr; }
}  // namespace laneway::cpu::detail
#endif
