// The batched forward pass: one call runs a batch of tokens from several sequences, each at its
// own position (prefill chunks and decode tokens mixed), writes their keys/values into the KV
// cache, attends each token causally over its own sequence, and returns the logits of the rows
// that ask for them. `cpu_forward` is the fast path (every weight read once per step by a matmul
// over all batch tokens, SIMD ops, thread pool, scratch reused across steps);
// `reference_forward` is the plain one-token-at-a-time oracle the tests compare it with.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "backends/cpu/ops.hpp"
#include "backends/cpu/thread_pool.hpp"
#include "backends/engine/kv_cache.hpp"
#include "backends/engine/model.hpp"

namespace laneway::engine {

// Token i of the batch is tokens[i] at positions[i] of sequence seq_ids[i]. Preconditions: every
// position before positions[i] of that sequence is already in the cache or earlier in this batch
// (a sequence's tokens appear in increasing position order).
struct batch {
  std::vector<int32_t> tokens;
  std::vector<int32_t> positions;
  std::vector<int32_t> seq_ids;
  std::vector<uint8_t> want_logits;  // 1: return this row's logits

  void clear() { tokens.clear(), positions.clear(), seq_ids.clear(), want_logits.clear(); }
  void add(int32_t token, int32_t pos, int32_t seq, bool logits) {
    tokens.push_back(token), positions.push_back(pos), seq_ids.push_back(seq);
    want_logits.push_back(logits ? 1 : 0);
  }
  int64_t size() const { return static_cast<int64_t>(tokens.size()); }
  int64_t n_logits() const;
};

// A KV cache layout that fits the model (f32 or f16 rows).
kv_layout kv_layout_for(const model& m, cpu::dtype type = cpu::dtype::f32);

// Checks a batch against the model and cache (sizes, token ids, sequence ids, positions) and
// reserves the positions it writes; throws std::invalid_argument / std::length_error.
void validate_and_reserve(const model& m, kv_cache& cache, const batch& b);

// The seam between the engine and a compute backend (CPU now; Vulkan and Metal hosts later):
// run one batch against the model and a KV cache, return the logits of the rows that want them.
class forward_backend {
 public:
  virtual ~forward_backend() = default;
  virtual std::string_view name() const = 0;  // "cpu", "vulkan", "metal"
  // Runs one step. Returns logits: [b.n_logits(), n_vocab], the rows with want_logits in batch
  // order; valid until the next call. Throws std::invalid_argument / std::length_error for a batch
  // that does not fit (validate_and_reserve).
  virtual std::span<const float> decode(const batch& b) = 0;
  virtual int64_t n_vocab() const = 0;
};

class cpu_forward final : public forward_backend {
 public:
  // n_threads <= 0: one per hardware thread. The model and cache must outlive this object.
  cpu_forward(const model& m, kv_cache& cache, int n_threads);

  // Runs one step. Returns logits: [b.n_logits(), n_vocab], the rows with want_logits in batch
  // order; valid until the next call.
  std::span<const float> decode(const batch& b) override;

  std::string_view name() const override { return "cpu"; }
  int64_t n_vocab() const override { return model_.hparams().n_vocab; }
  int n_threads() const { return pool_.size(); }
  cpu::thread_pool& pool() { return pool_; }

 private:
  void ensure_capacity(int64_t n_tokens, int64_t n_out);
  void attention_block(int64_t layer, const batch& b);
  void ffn_block(int64_t layer, int64_t n);
  void attend(int64_t layer, const batch& b);  // q_ -> attn_

  const model& model_;
  kv_cache& cache_;
  cpu::thread_pool pool_;
  cpu::rope_table rope_;
  int64_t capacity_ = 0;      // tokens the scratch below holds
  int64_t out_capacity_ = 0;  // logit rows
  // Scratch, [capacity_, width]:
  std::vector<float> x_;      // residual stream [n, n_embd]
  std::vector<float> xn_;     // normed input     [n, n_embd]
  std::vector<float> q_;      // [n, q_dim]
  std::vector<float> k_;      // [n, kv_dim]
  std::vector<float> v_;      // [n, kv_dim]
  std::vector<float> attn_;   // [n, q_dim]
  std::vector<float> proj_;   // [n, n_embd]
  std::vector<float> gate_;   // [n, n_ff]
  std::vector<float> up_;     // [n, n_ff]
  std::vector<float> out_x_;  // [n_out, n_embd]
  std::vector<float> logits_; // [n_out, n_vocab]
};

// The oracle: token by token in batch order, double-accumulating cpu::ref ops on dequantized
// weights, K/V through the same kv_cache interface. Returns [b.n_logits(), n_vocab].
std::vector<float> reference_forward(const model& m, kv_cache& cache, const batch& b);

}  // namespace laneway::engine
