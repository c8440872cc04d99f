// Reference kernels: plain loops with double accumulation, obviously correct and slow. They are
// the test oracle for the fast path (matmul.hpp, ops.hpp) and the spec for the forward pass:
// matmul over any weight type, rmsnorm, rope (normal / NEOX), softmax, silu-gate, add, attention.
#pragma once

#include <cstdint>

#include "backends/cpu/quant_types.hpp"

namespace laneway::cpu {

// normal: rotate adjacent pairs (2i, 2i+1) (llama); neox: rotate (i, i + d/2) (qwen2, qwen3).
enum class rope_mode { normal, neox };

// Multi-head attention over a contiguous K/V with grouped-query heads and causal positions.
struct attention_shape {
  int64_t n_tokens = 0;   // query rows
  int64_t n_head = 0;     // query heads
  int64_t n_head_kv = 0;  // key/value heads; query head h reads kv head h / (n_head / n_head_kv)
  int64_t head_dim = 0;
  int64_t n_kv = 0;       // key/value rows (positions 0 .. n_kv-1)
};

namespace ref {

// w: [n_out, n_in] row-major in blocks of w.type, x: [n_tokens, n_in], y: [n_tokens, n_out]
// y[t][o] = sum_i dequant(W)[o][i] * x[t][i]   (double accumulation)
void matmul(const weight_view& w, const float* x, int64_t n_tokens, float* y);

// x, out: [n_rows, n]; weight: [n] or nullptr (all ones)
// out = x / sqrt(mean(x^2) + eps) * weight, per row
void rmsnorm(const float* x, const float* weight, int64_t n_rows, int64_t n, float eps, float* out);

// x: [n_tokens, n_heads, head_dim], rotated in place; positions: [n_tokens]
// pair i (0 <= i < head_dim/2) of a head at position p turns by p * freq_base^(-2i/head_dim)
void rope(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const int32_t* positions,
          float freq_base, rope_mode mode);

// x: [n], in place: x = exp(x - max) / sum
void softmax(float* x, int64_t n);

// g, u, out: [n]; out = silu(g) * u = g / (1 + exp(-g)) * u
void silu_mul(const float* g, const float* u, float* out, int64_t n);

// a, b, out: [n]; out = a + b
void add(const float* a, const float* b, float* out, int64_t n);

// q: [n_tokens, n_head, head_dim], k, v: [n_kv, n_head_kv, head_dim] (row p = position p),
// q_pos: [n_tokens] (query t sees kv rows 0 .. q_pos[t]), out: [n_tokens, n_head, head_dim].
// out = softmax(scale * q k^T) v per head; scale is usually 1/sqrt(head_dim).
void attention(const attention_shape& s, const float* q, const float* k, const float* v,
               const int32_t* q_pos, float scale, float* out);

}  // namespace ref
}  // namespace laneway::cpu
