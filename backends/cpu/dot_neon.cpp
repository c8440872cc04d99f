// NEON (aarch64) dot products for the most used weight types, mirroring dot_scalar.cpp; the
// other types keep the scalar kernels. Compiled only where __ARM_NEON is defined. Not tested on
// the development machine (x86-64): keep it as plain as the scalar code it mirrors.
#include "backends/cpu/kernels.hpp"

#if defined(__ARM_NEON) && defined(__aarch64__)
#include <arm_neon.h>

namespace laneway::cpu::detail {

namespace {

// w, x: [n] float
float dot_f32(int64_t n, const void* w_, const void* x_) {
  const auto* w = static_cast<const float*>(w_);
  const auto* x = static_cast<const float*>(x_);
  float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = vfmaq_f32(a0, vld1q_f32(w + i), vld1q_f32(x + i));
    a1 = vfmaq_f32(a1, vld1q_f32(w + i + 4), vld1q_f32(x + i + 4));
    a2 = vfmaq_f32(a2, vld1q_f32(w + i + 8), vld1q_f32(x + i + 8));
    a3 = vfmaq_f32(a3, vld1q_f32(w + i + 12), vld1q_f32(x + i + 12));
  }
  float s = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
  for (; i < n; ++i) s += w[i] * x[i];
  return s;
}

// 16 + 16 signed bytes dot 16 + 16 signed bytes -> i32
inline int32_t dot_32_s8(int8x16_t w0, int8x16_t w1, int8x16_t x0, int8x16_t x1) {
  int32x4_t acc = vdupq_n_s32(0);
  acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(w0), vget_low_s8(x0)));
  acc = vpadalq_s16(acc, vmull_high_s8(w0, x0));
  acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(w1), vget_low_s8(x1)));
  acc = vpadalq_s16(acc, vmull_high_s8(w1, x1));
  return vaddvq_s32(acc);
}

// w: [n/32] Q8_0, x: [n/32] Q8_0
float dot_q8_0(int64_t n, const void* w_, const void* x_) {
  const auto* w = static_cast<const block_q8_0*>(w_);
  const auto* x = static_cast<const block_q8_0*>(x_);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / qk8_0; ++b) {
    const int32_t isum = dot_32_s8(vld1q_s8(w[b].qs), vld1q_s8(w[b].qs + 16),
                                   vld1q_s8(x[b].qs), vld1q_s8(x[b].qs + 16));
    sum += fp16_to_fp32(w[b].d) * fp16_to_fp32(x[b].d) * static_cast<float>(isum);
  }
  return sum;
}

// w: [n/32] Q4_0, x: [n/32] Q8_0
float dot_q4_0(int64_t n, const void* w_, const void* x_) {
  const auto* w = static_cast<const block_q4_0*>(w_);
  const auto* x = static_cast<const block_q8_0*>(x_);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / qk4_0; ++b) {
    const uint8x16_t raw = vld1q_u8(w[b].qs);
    const int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(raw, vdupq_n_u8(15))), vdupq_n_s8(8));
    const int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(raw, 4)), vdupq_n_s8(8));
    const int32_t isum = dot_32_s8(lo, hi, vld1q_s8(x[b].qs), vld1q_s8(x[b].qs + 16));
    sum += fp16_to_fp32(w[b].d) * fp16_to_fp32(x[b].d) * static_cast<float>(isum);
  }
  return sum;
}

}  // namespace

const kernel_set* neon_kernels() {
  static const kernel_set set = [] {
    kernel_set s = scalar_kernels();
    s.name = "neon";
    s.f32 = dot_f32;
    s.q8_0 = dot_q8_0;
    s.q4_0 = dot_q4_0;
    return s;
  }();
  return &set;
}

}  // namespace laneway::cpu::detail

#else
namespace laneway::cpu::detail {
const kernel_set* neon_kernels() { return nullptr; }
}  // namespace laneway::cpu::detail
#endif
