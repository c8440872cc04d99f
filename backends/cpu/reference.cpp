// Reference kernels (see reference.hpp): double accumulation, no SIMD, no threads.
#include "backends/cpu/reference.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace laneway::cpu::ref {

void matmul(const weight_view& w, const float* x, int64_t n_tokens, float* y) {
  const size_t stride = row_bytes(w.type, w.n_in);
  std::vector<float> row(static_cast<size_t>(w.n_in));  // row: [n_in] one dequantized weight row
  for (int64_t o = 0; o < w.n_out; ++o) {
    dequantize_row(w.type, static_cast<const uint8_t*>(w.data) + o * stride, row.data(), w.n_in);
    for (int64_t t = 0; t < n_tokens; ++t) {
      double sum = 0.0;
      for (int64_t i = 0; i < w.n_in; ++i) sum += static_cast<double>(row[i]) * x[t * w.n_in + i];
      y[t * w.n_out + o] = static_cast<float>(sum);
    }
  }
}

void rmsnorm(const float* x, const float* weight, int64_t n_rows, int64_t n, float eps, float* out) {
  for (int64_t r = 0; r < n_rows; ++r) {
    double ss = 0.0;
    for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[r * n + i]) * x[r * n + i];
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);
    for (int64_t i = 0; i < n; ++i) {
      out[r * n + i] = static_cast<float>(x[r * n + i] * inv * (weight ? weight[i] : 1.0f));
    }
  }
}

void rope(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const int32_t* positions,
          float freq_base, rope_mode mode) {
  const int64_t half = head_dim / 2;
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + (t * n_heads + h) * head_dim;  // v: [head_dim]
      for (int64_t i = 0; i < half; ++i) {
        const double theta =
            positions[t] * std::pow(static_cast<double>(freq_base), -2.0 * i / head_dim);
        const double c = std::cos(theta), s = std::sin(theta);
        const int64_t a = mode == rope_mode::normal ? 2 * i : i;
        const int64_t b = mode == rope_mode::normal ? 2 * i + 1 : i + half;
        const double x0 = v[a], x1 = v[b];
        v[a] = static_cast<float>(x0 * c - x1 * s);
        v[b] = static_cast<float>(x0 * s + x1 * c);
      }
    }
  }
}

void softmax(float* x, int64_t n) {
  if (n <= 0) return;
  const float max = *std::max_element(x, x + n);
  double sum = 0.0;
  std::vector<double> e(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) sum += e[i] = std::exp(static_cast<double>(x[i]) - max);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(e[i] / sum);
}

void silu_mul(const float* g, const float* u, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double gv = g[i];
    out[i] = static_cast<float>(gv / (1.0 + std::exp(-gv)) * u[i]);
  }
}

void add(const float* a, const float* b, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void attention(const attention_shape& s, const float* q, const float* k, const float* v,
               const int32_t* q_pos, float scale, float* out) {
  const int64_t group = s.n_head / s.n_head_kv, d = s.head_dim;
  std::vector<double> score(static_cast<size_t>(s.n_kv));  // score: [n_kv]
  for (int64_t t = 0; t < s.n_tokens; ++t) {
    const int64_t n_seen = std::min<int64_t>(s.n_kv, int64_t{q_pos[t]} + 1);
    for (int64_t h = 0; h < s.n_head; ++h) {
      const float* qh = q + (t * s.n_head + h) * d;  // qh: [head_dim]
      const int64_t hk = h / group;
      double max = -INFINITY;
      for (int64_t p = 0; p < n_seen; ++p) {
        const float* kp = k + (p * s.n_head_kv + hk) * d;  // kp: [head_dim]
        double dot = 0.0;
        for (int64_t i = 0; i < d; ++i) dot += static_cast<double>(qh[i]) * kp[i];
        score[p] = dot * scale;
        max = std::max(max, score[p]);
      }
      double sum = 0.0;
      for (int64_t p = 0; p < n_seen; ++p) sum += score[p] = std::exp(score[p] - max);
      float* oh = out + (t * s.n_head + h) * d;  // oh: [head_dim]
      for (int64_t i = 0; i < d; ++i) {
        double acc = 0.0;
        for (int64_t p = 0; p < n_seen; ++p) acc += score[p] * v[(p * s.n_head_kv + hk) * d + i];
        oh[i] = n_seen > 0 ? static_cast<float>(acc / sum) : 0.0f;
      }
    }
  }
}

}  // namespace laneway::cpu::ref
