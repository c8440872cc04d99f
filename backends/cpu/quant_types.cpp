// fp16/bf16 conversion, per-type traits, Q8_0 / Q4_0 quantizers, and the quantize_row /
// dequantize_row dispatch over every type (the K-quants live in quant_k.cpp).
#include "backends/cpu/quant_types.hpp"

#include <cmath>
#include <cstring>

#include "backends/cpu/round.hpp"

namespace laneway::cpu {

namespace {
uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
}  // namespace

float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  if (exp == 0x1f) return float_of(sign | 0x7f800000u | (mant << 13));  // inf / nan
  if (exp == 0) {                                                        // zero / subnormal
    const float v = std::ldexp(static_cast<float>(mant), -24);          // exact
    return sign ? -v : v;
  }
  return float_of(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t fp32_to_fp16(float f) {
  const uint32_t x = bits_of(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u) {  // nan: keep the top payload bits, force quiet
    return static_cast<uint16_t>(sign | 0x7e00 | ((abs >> 13) & 0x3ff));
  }
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00);  // >= 65520 -> inf
  if (abs < 0x38800000u) {  // below 2^-14: half subnormal (units of 2^-24) or zero
    if (abs <= 0x33000000u) return sign;  // <= 2^-25 rounds (to even) to zero
    const uint32_t exp = abs >> 23;
    const uint32_t mant = (abs & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - exp;  // value / 2^-24 = mant >> shift
    uint32_t r = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1))) ++r;  // may carry into the min normal: right
    return static_cast<uint16_t>(sign | r);
  }
  uint32_t h = (abs >> 13) - (112u << 10);  // rebias exponent 127 -> 15
  const uint32_t rem = abs & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) ++h;  // carry into the exponent is right
  return static_cast<uint16_t>(sign | h);
}

float bf16_to_fp32(uint16_t h) { return float_of(static_cast<uint32_t>(h) << 16); }

uint16_t fp32_to_bf16(float f) {
  const uint32_t x = bits_of(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40);  // quiet
  const uint32_t bias = 0x7fff + ((x >> 16) & 1);  // round to nearest even
  return static_cast<uint16_t>((x + bias) >> 16);
}

void pack_scale_min_k4(const uint8_t* scale, const uint8_t* min, uint8_t* q) {
  for (int j = 0; j < 4; ++j) {
    q[j] = static_cast<uint8_t>((scale[j] & 63) | ((scale[j + 4] >> 4) << 6));
    q[j + 4] = static_cast<uint8_t>((min[j] & 63) | ((min[j + 4] >> 4) << 6));
    q[j + 8] = static_cast<uint8_t>((scale[j + 4] & 0x0F) | ((min[j + 4] & 0x0F) << 4));
  }
}

// ---- traits ---------------------------------------------------------------------------------
bool is_known(dtype t) {
  switch (t) {
    case dtype::f32: case dtype::f16: case dtype::bf16: case dtype::q4_0: case dtype::q8_0:
    case dtype::q4_k: case dtype::q5_k: case dtype::q6_k: case dtype::q8_k:
      return true;
  }
  return false;
}

const type_traits& traits(dtype t) {
  static const type_traits f32{"f32", 1, 4}, f16{"f16", 1, 2}, bf16{"bf16", 1, 2},
      q4_0{"q4_0", qk4_0, sizeof(block_q4_0)}, q8_0{"q8_0", qk8_0, sizeof(block_q8_0)},
      q4_k{"q4_k", qk_k, sizeof(block_q4_k)}, q5_k{"q5_k", qk_k, sizeof(block_q5_k)},
      q6_k{"q6_k", qk_k, sizeof(block_q6_k)}, q8_k{"q8_k", qk_k, sizeof(block_q8_k)},
      unknown{"unknown", 1, 0};
  switch (t) {
    case dtype::f32: return f32;
    case dtype::f16: return f16;
    case dtype::bf16: return bf16;
    case dtype::q4_0: return q4_0;
    case dtype::q8_0: return q8_0;
    case dtype::q4_k: return q4_k;
    case dtype::q5_k: return q5_k;
    case dtype::q6_k: return q6_k;
    case dtype::q8_k: return q8_k;
  }
  return unknown;
}

size_t row_bytes(dtype t, int64_t n) {
  const type_traits& tr = traits(t);
  return static_cast<size_t>(n / tr.block_size) * tr.block_bytes;
}

// ---- Q8_0 / Q4_0 ----------------------------------------------------------------------------
// x: [n], y: [n/32]; d = max|x| / 127 (stored as fp16), q = round_half_even(x * (127 / max|x|)).
// The multiplier is 127 / max|x|, not 1 / d: that is what llama.cpp's x86 activation quantizers
// (quantize_row_q8_0, ggml_quantize_mat_q8_0_4x8) compute, and 1 / d differs from it by an ulp
// often enough to flip a rounding now and then, which the quantized models amplify.
void quantize_row_q8_0(const float* x, block_q8_0* y, int64_t n) {
  for (int64_t b = 0; b < n / qk8_0; ++b, x += qk8_0) {
    float amax = 0.0f;
    for (int j = 0; j < qk8_0; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    y[b].d = fp32_to_fp16(d);
    for (int j = 0; j < qk8_0; ++j) y[b].qs[j] = static_cast<int8_t>(round_nearest(x[j] * id));
  }
}

// x: [n], y: [n/32]; the value of largest magnitude maps to nibble 0 (q = -8), d = that / -8.
static void quantize_row_q4_0(const float* x, block_q4_0* y, int64_t n) {
  for (int64_t b = 0; b < n / qk4_0; ++b, x += qk4_0) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < qk4_0; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = fp32_to_fp16(d);
    for (int j = 0; j < 16; ++j) {
      int lo = round_nearest(x[j] * id) + 8, hi = round_nearest(x[j + 16] * id) + 8;
      lo = lo < 0 ? 0 : (lo > 15 ? 15 : lo);
      hi = hi < 0 ? 0 : (hi > 15 ? 15 : hi);
      y[b].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

static void dequantize_row_q8_0(const block_q8_0* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / qk8_0; ++b) {
    const float d = fp16_to_fp32(x[b].d);
    for (int j = 0; j < qk8_0; ++j) y[b * qk8_0 + j] = d * x[b].qs[j];
  }
}

static void dequantize_row_q4_0(const block_q4_0* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / qk4_0; ++b) {
    const float d = fp16_to_fp32(x[b].d);
    for (int j = 0; j < 16; ++j) {
      y[b * qk4_0 + j] = d * ((x[b].qs[j] & 0x0F) - 8);
      y[b * qk4_0 + j + 16] = d * ((x[b].qs[j] >> 4) - 8);
    }
  }
}

// ---- dispatch -------------------------------------------------------------------------------
void dequantize_row(dtype t, const void* src, float* dst, int64_t n) {
  switch (t) {
    case dtype::f32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case dtype::f16: {
      const auto* h = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(h[i]);
      return;
    }
    case dtype::bf16: {
      const auto* h = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(h[i]);
      return;
    }
    case dtype::q4_0: dequantize_row_q4_0(static_cast<const block_q4_0*>(src), dst, n); return;
    case dtype::q8_0: dequantize_row_q8_0(static_cast<const block_q8_0*>(src), dst, n); return;
    case dtype::q4_k: dequantize_row_q4_k(static_cast<const block_q4_k*>(src), dst, n); return;
    case dtype::q5_k: dequantize_row_q5_k(static_cast<const block_q5_k*>(src), dst, n); return;
    case dtype::q6_k: dequantize_row_q6_k(static_cast<const block_q6_k*>(src), dst, n); return;
    case dtype::q8_k: dequantize_row_q8_k(static_cast<const block_q8_k*>(src), dst, n); return;
  }
}

void quantize_row(dtype t, const float* src, void* dst, int64_t n) {
  switch (t) {
    case dtype::f32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case dtype::f16: {
      auto* h = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_fp16(src[i]);
      return;
    }
    case dtype::bf16: {
      auto* h = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_bf16(src[i]);
      return;
    }
    case dtype::q4_0: quantize_row_q4_0(src, static_cast<block_q4_0*>(dst), n); return;
    case dtype::q8_0: quantize_row_q8_0(src, static_cast<block_q8_0*>(dst), n); return;
    case dtype::q4_k: quantize_row_q4_k(src, static_cast<block_q4_k*>(dst), n); return;
    case dtype::q5_k: quantize_row_q5_k(src, static_cast<block_q5_k*>(dst), n); return;
    case dtype::q6_k: quantize_row_q6_k(src, static_cast<block_q6_k*>(dst), n); return;
    case dtype::q8_k: quantize_row_q8_k(src, static_cast<block_q8_k*>(dst), n); return;
  }
}

}  // namespace laneway::cpu
