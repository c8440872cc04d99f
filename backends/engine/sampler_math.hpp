// Row kernels of the sampler over a whole vocabulary: argmax, temperature scaling with the max,
// exp(x - max) with per-64 block sums, sum of exp. exp is computed in plain float arithmetic (no
// libm call: the result does not depend on the C library) with GCC/Clang vector extensions, 4
// lanes (SSE2 on x86-64, NEON on arm64); the scalar exp_nonpositive is the reference and the tail.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

namespace laneway::engine::sampler_math {

constexpr float neg_inf = -std::numeric_limits<float>::infinity();

// exp(x) for x <= 0: e^x = 2^n e^r, n = round(x log2 e), r = x - n ln 2 (Cody-Waite: ln 2 split in
// an exact high part and a low part), |r| <= 0.35, e^r by its degree-6 Taylor polynomial
// (relative error ~2e-7). x < -87 (and -inf) gives 0.
inline float exp_nonpositive(float x) {
  const float xc = x < -87.0f ? -87.0f : x;
  const float n = (xc * 1.44269504f + 12582912.0f) - 12582912.0f;  // round (1.5 * 2^23 trick)
  const float f = (xc - n * 0.693359375f) - n * -2.12194440e-4f;
  const float poly =
      1.0f + f * (1.0f + f * (0.5f + f * (1.0f / 6 + f * (1.0f / 24 + f * (1.0f / 120 + f * (1.0f / 720))))));
  const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return x < -87.0f ? 0.0f : poly * scale;
}

using v4f = float __attribute__((vector_size(16)));
using v4i = int32_t __attribute__((vector_size(16)));

inline v4f load4(const float* p) {
  v4f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store4(float* p, v4f v) { std::memcpy(p, &v, sizeof v); }
inline v4f select4(v4i mask, v4f a, v4f b) { return (v4f)(((v4i)a & mask) | ((v4i)b & ~mask)); }

// Four lanes of exp_nonpositive, same operations.
inline v4f exp_nonpositive4(v4f x) {
  const v4f lo = v4f{} - 87.0f;
  const v4i small = x < lo;
  const v4f xc = select4(small, lo, x);
  const v4f n = (xc * 1.44269504f + 12582912.0f) - 12582912.0f;
  const v4f f = (xc - n * 0.693359375f) - n * -2.12194440e-4f;
  const v4f poly =
      1.0f + f * (1.0f + f * (0.5f + f * (1.0f / 6 + f * (1.0f / 24 + f * (1.0f / 120 + f * (1.0f / 720))))));
  const v4i bits = (__builtin_convertvector(n, v4i) + 127) << 23;
  return (v4f)((v4i)(poly * (v4f)bits) & ~small);
}

// First index of the largest value (NaN never wins); 0 when every value is -inf or NaN.
inline int32_t argmax(const float* l, int32_t n) {
  float lane[8];
  for (float& v : lane) v = neg_inf;
  int32_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) lane[j] = l[i + j] > lane[j] ? l[i + j] : lane[j];
  float best = neg_inf;
  for (const float v : lane) best = v > best ? v : best;
  for (; i < n; ++i) best = l[i] > best ? l[i] : best;
  for (int32_t k = 0; k < n; ++k)
    if (l[k] == best) return k;
  return 0;
}

// s[i] = l[i] * inv_t (NaN -> -inf) for i < n; returns the max of s.
inline float scale_row(const float* l, float* s, float inv_t, int32_t n) {
  v4f mx = v4f{} + neg_inf;
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const v4f x = load4(l + i);
    const v4f v = select4(x == x, x * inv_t, v4f{} + neg_inf);
    store4(s + i, v);
    mx = select4(v > mx, v, mx);
  }
  float best = neg_inf;
  for (int j = 0; j < 4; ++j) best = mx[j] > best ? mx[j] : best;
  for (; i < n; ++i) {
    s[i] = l[i] == l[i] ? l[i] * inv_t : neg_inf;
    best = s[i] > best ? s[i] : best;
  }
  return best;
}

// p[i] = exp(s[i] - max) for i < n; block[b] = sum of p over [64b, 64b + 64); returns the sum.
inline double exp_row(const float* s, float* p, double* block, float max, int32_t n) {
  double total = 0.0;
  for (int32_t b0 = 0; b0 < n; b0 += 64) {
    const int32_t end = std::min(n, b0 + 64);
    v4f acc{};
    int32_t i = b0;
    for (; i + 4 <= end; i += 4) {
      const v4f e = exp_nonpositive4(load4(s + i) - max);
      store4(p + i, e);
      acc += e;
    }
    double sum = static_cast<double>(acc[0]) + acc[1] + acc[2] + acc[3];
    for (; i < end; ++i) sum += p[i] = exp_nonpositive(s[i] - max);
    block[b0 / 64] = sum;
    total += sum;
  }
  return total;
}

// Sum of exp(l[i] - max) over i < n (max >= every l[i]; NaN entries count 0).
inline double sum_exp(const float* l, float max, int32_t n) {
  v4f acc{};
  int32_t i = 0;
  double total = 0.0;
  for (; i + 4 <= n; i += 4) {
    const v4f x = load4(l + i);
    acc += select4(x == x, exp_nonpositive4(x - max), v4f{});
    if ((i & 1023) == 1020) {  // flush to double now and then
      total += static_cast<double>(acc[0]) + acc[1] + acc[2] + acc[3];
      acc = v4f{};
    }
  }
  total += static_cast<double>(acc[0]) + acc[1] + acc[2] + acc[3];
  for (; i < n; ++i) total += l[i] == l[i] ? exp_nonpositive(l[i] - max) : 0.0f;
  return total;
}

}  // namespace laneway::engine::sampler_math
