// Fast versions of the non-matmul ops of a transformer layer (same contracts as reference.hpp):
// rmsnorm, rope with a precomputed cos/sin table, softmax, silu-gate, add, and multithreaded
// attention whose q.k dot products use the active SIMD kernel set.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/cpu/reference.hpp"
#include "backends/cpu/thread_pool.hpp"

namespace laneway::cpu {

// x, out: [n_rows, n]; weight: [n] or nullptr. out may alias x.
void rmsnorm(const float* x, const float* weight, int64_t n_rows, int64_t n, float eps, float* out);

// cos/sin of every (token, pair) angle, computed once per batch (in double, stored as float)
// and shared by the q and k heads of every layer.
struct rope_table {
  void build(const int32_t* positions, int64_t n_tokens, int64_t head_dim, float freq_base);
  std::vector<float> cos_;  // cos_: [n_tokens, head_dim/2]
  std::vector<float> sin_;  // sin_: [n_tokens, head_dim/2]
  int64_t n_tokens_ = 0;
  int64_t head_dim_ = 0;
};

// x: [n_tokens, n_heads, head_dim] in place; table built for the same n_tokens and head_dim.
void rope(float* x, int64_t n_heads, const rope_table& table, rope_mode mode);
// Convenience: builds a (thread-local) table first.
void rope(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const int32_t* positions,
          float freq_base, rope_mode mode);

void softmax(float* x, int64_t n);                                     // x: [n], in place
void silu_mul(const float* g, const float* u, float* out, int64_t n);  // out may alias g or u
void add(const float* a, const float* b, float* out, int64_t n);       // out may alias a or b

// a, b: [n] -> sum a[i] * b[i] with the active kernel set (float accumulation)
float dot_f32(const float* a, const float* b, int64_t n);

// As ref::attention; (token, head) pairs are spread over the pool.
void attention(const attention_shape& s, const float* q, const float* k, const float* v,
               const int32_t* q_pos, float scale, float* out, thread_pool& pool);

}  // namespace laneway::cpu
