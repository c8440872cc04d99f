// Fast transformer ops (see ops.hpp): plain loops the compiler vectorizes, float accumulation,
// plus the active kernel set's f32 dot product for attention scores.
#include "backends/cpu/ops.hpp"

#include <algorithm>
#include <cmath>

#include "backends/cpu/kernels.hpp"
#include "backends/cpu/matmul.hpp"

namespace laneway::cpu {

void rmsnorm(const float* x, const float* weight, int64_t n_rows, int64_t n, float eps, float* out) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * n;  // xr: [n]
    float* yr = out + r * n;      // yr: [n]
    // As llama.cpp: float squares summed in double, the mean rounded to float (the quantized
    // models amplify a last-bit difference here; see docs/forward-pass.md "Correctness").
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(xr[i] * xr[i]);
    const auto mean = static_cast<float>(sum / static_cast<double>(n));
    const float inv = 1.0f / std::sqrt(mean + eps);
    if (weight) {
      for (int64_t j = 0; j < n; ++j) yr[j] = xr[j] * inv * weight[j];
    } else {
      for (int64_t j = 0; j < n; ++j) yr[j] = xr[j] * inv;
    }
  }
}

void rope_table::build(const int32_t* positions, int64_t n_tokens, int64_t head_dim,
                       float freq_base) {
  const int64_t half = head_dim / 2;
  n_tokens_ = n_tokens;
  head_dim_ = head_dim;
  cos_.resize(static_cast<size_t>(n_tokens * half));
  sin_.resize(static_cast<size_t>(n_tokens * half));
  // As llama.cpp: theta of pair i = pos * scale^i in float, by repeated multiplication.
  const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(head_dim));
  for (int64_t t = 0; t < n_tokens; ++t) {
    float theta = static_cast<float>(positions[t]);
    for (int64_t i = 0; i < half; ++i) {
      cos_[t * half + i] = std::cos(theta);
      sin_[t * half + i] = std::sin(theta);
      theta *= theta_scale;
    }
  }
}

namespace {
// a * b + c rounded once, as llama.cpp's FMA-contracted rope computes x0*cos - x1*sin (the other
// product rounded first): the product is exact in double, so only a float tie of the double sum
// (~2^-29 of cases) could round differently from a hardware FMA. Vectorizes without -mfma.
inline float mul_add(float a, float b, float c) {
  return static_cast<float>(static_cast<double>(a) * b + c);
}
}  // namespace

void rope(float* x, int64_t n_heads, const rope_table& table, rope_mode mode) {
  const int64_t d = table.head_dim_, half = d / 2;
  for (int64_t t = 0; t < table.n_tokens_; ++t) {
    const float* c = table.cos_.data() + t * half;  // c, s: [half]
    const float* s = table.sin_.data() + t * half;
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + (t * n_heads + h) * d;  // v: [head_dim]
      if (mode == rope_mode::neox) {
        for (int64_t i = 0; i < half; ++i) {
          const float x0 = v[i], x1 = v[i + half];
          v[i] = mul_add(x0, c[i], -(x1 * s[i]));
          v[i + half] = mul_add(x0, s[i], x1 * c[i]);
        }
      } else {
        for (int64_t i = 0; i < half; ++i) {
          const float x0 = v[2 * i], x1 = v[2 * i + 1];
          v[2 * i] = mul_add(x0, c[i], -(x1 * s[i]));
          v[2 * i + 1] = mul_add(x0, s[i], x1 * c[i]);
        }
      }
    }
  }
}

void rope(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const int32_t* positions,
          float freq_base, rope_mode mode) {
  thread_local rope_table table;
  table.build(positions, n_tokens, head_dim, freq_base);
  rope(x, n_heads, table, mode);
}

void softmax(float* x, int64_t n) {
  if (n <= 0) return;
  const float max = *std::max_element(x, x + n);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += x[i] = std::exp(x[i] - max);
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void silu_mul(const float* g, const float* u, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void add(const float* a, const float* b, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

float dot_f32(const float* a, const float* b, int64_t n) {
  return detail::active_kernels().f32(n, a, b);
}

void attention(const attention_shape& s, const float* q, const float* k, const float* v,
               const int32_t* q_pos, float scale, float* out, thread_pool& pool) {
  const int64_t group = s.n_head / s.n_head_kv, d = s.head_dim;
  pool.parallel_for(s.n_tokens * s.n_head, [&](int64_t task) {
    const int64_t t = task / s.n_head, h = task % s.n_head, hk = h / group;
    const int64_t n_seen = std::min<int64_t>(s.n_kv, int64_t{q_pos[t]} + 1);
    thread_local std::vector<float> score;  // score: [n_seen]
    if (score.size() < static_cast<size_t>(std::max<int64_t>(n_seen, 1))) {
      score.resize(static_cast<size_t>(std::max<int64_t>(n_seen, 1)));
    }
    const float* qh = q + (t * s.n_head + h) * d;  // qh: [head_dim]
    for (int64_t p = 0; p < n_seen; ++p) score[p] = scale * dot_f32(qh, k + (p * s.n_head_kv + hk) * d, d);
    softmax(score.data(), n_seen);
    float* oh = out + (t * s.n_head + h) * d;  // oh: [head_dim]
    std::fill(oh, oh + d, 0.0f);
    for (int64_t p = 0; p < n_seen; ++p) {
      const float* vp = v + (p * s.n_head_kv + hk) * d;  // vp: [head_dim]
      const float w = score[p];
      for (int64_t i = 0; i < d; ++i) oh[i] += w * vp[i];
    }
  });
}

}  // namespace laneway::cpu
