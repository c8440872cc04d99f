// cpu_forward: the fast batched forward pass (see forward.hpp). Per step, for n batch tokens:
//   x = embed(tokens)                                          x: [n, n_embd]
//   per layer:  xn = rmsnorm(x);  q,k,v = xn Wq/Wk/Wv (+bias)  q: [n, q_dim], k, v: [n, kv_dim]
//               (qwen3: per-head rmsnorm of q, k);  rope(q, k) at each token's position
//               cache[layer, seq, pos] = k, v;  attn = attention(q, own sequence's cache)
//               x += attn Wo;  xn = rmsnorm(x);  x += (silu(xn Wg) * (xn Wu)) Wd
//   logits = rmsnorm(x[rows that want them]) Wout              logits: [n_out, n_vocab]
// Every matmul covers all n tokens, so each weight is read once per step. Scratch buffers grow
// to the largest batch seen and are then reused.
#include "backends/engine/forward.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "backends/cpu/matmul.hpp"

namespace laneway::engine {

int64_t batch::n_logits() const {
  int64_t n = 0;
  for (uint8_t w : want_logits) n += w ? 1 : 0;
  return n;
}

kv_layout kv_layout_for(const model& m, cpu::dtype type) {
  const auto& hp = m.hparams();
  kv_layout l;
  l.n_layer = hp.n_layer;
  l.n_head_kv = hp.n_head_kv;
  l.head_dim = hp.head_dim;
  l.type = type;
  return l;
}

void validate_and_reserve(const model& m, kv_cache& cache, const batch& b) {
  const std::size_t n = b.tokens.size();
  if (b.positions.size() != n || b.seq_ids.size() != n || b.want_logits.size() != n) {
    throw std::invalid_argument("batch: tokens, positions, seq_ids and want_logits differ in length");
  }
  const auto& hp = m.hparams();
  const kv_layout& l = cache.layout();
  if (l.n_layer != hp.n_layer || l.n_head_kv != hp.n_head_kv || l.head_dim != hp.head_dim) {
    throw std::invalid_argument("kv cache layout does not match the model");
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (b.tokens[i] < 0 || b.tokens[i] >= hp.n_vocab) {
      throw std::invalid_argument("batch: token id " + std::to_string(b.tokens[i]) + " outside [0, " +
                                  std::to_string(hp.n_vocab) + ")");
    }
    if (b.seq_ids[i] < 0 || b.seq_ids[i] >= cache.n_seq()) {
      throw std::invalid_argument("batch: sequence id " + std::to_string(b.seq_ids[i]) + " outside [0, " +
                                  std::to_string(cache.n_seq()) + ")");
    }
    if (b.positions[i] < 0) throw std::invalid_argument("batch: negative position");
    cache.reserve(b.seq_ids[i], b.positions[i] + 1);
  }
}

cpu_forward::cpu_forward(const model& m, kv_cache& cache, int n_threads)
    : model_(m), cache_(cache), pool_(n_threads) {}

void cpu_forward::ensure_capacity(int64_t n, int64_t n_out) {
  const auto& hp = model_.hparams();
  if (n > capacity_) {
    const auto sz = [n](int64_t w) { return static_cast<std::size_t>(n * w); };
    x_.resize(sz(hp.n_embd));
    xn_.resize(sz(hp.n_embd));
    q_.resize(sz(hp.q_dim()));
    k_.resize(sz(hp.kv_dim()));
    v_.resize(sz(hp.kv_dim()));
    attn_.resize(sz(hp.q_dim()));
    proj_.resize(sz(hp.n_embd));
    gate_.resize(sz(hp.n_ff));
    up_.resize(sz(hp.n_ff));
    capacity_ = n;
  }
  if (n_out > out_capacity_) {
    out_x_.resize(static_cast<std::size_t>(n_out * hp.n_embd));
    logits_.resize(static_cast<std::size_t>(n_out * hp.n_vocab));
    out_capacity_ = n_out;
  }
}

namespace {

void add_bias(float* y, const float* bias, int64_t n_rows, int64_t width) {
  if (!bias) return;
  for (int64_t r = 0; r < n_rows; ++r) cpu::add(y + r * width, bias, y + r * width, width);
}

// Writes the rows of src ([n, row_values] f32) into the cache rows of each token.
void store_rows(kv_cache& cache, bool is_k, int64_t layer, const batch& b, const float* src) {
  const kv_layout& l = cache.layout();
  const int64_t w = l.row_values();
  for (int64_t t = 0; t < b.size(); ++t) {
    std::byte* dst = is_k ? cache.k_row(layer, b.seq_ids[t], b.positions[t])
                          : cache.v_row(layer, b.seq_ids[t], b.positions[t]);
    const float* row = src + t * w;  // row: [n_head_kv * head_dim]
    if (l.type == cpu::dtype::f32) {
      std::memcpy(dst, row, static_cast<std::size_t>(w) * sizeof(float));
    } else {
      auto* h = reinterpret_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < w; ++i) h[i] = cpu::fp32_to_fp16(row[i]);
    }
  }
}

}  // namespace

void cpu_forward::attention_block(int64_t layer, const batch& b) {
  const auto& hp = model_.hparams();
  const layer_weights& lw = model_.layers()[static_cast<std::size_t>(layer)];
  const int64_t n = b.size();
  cpu::rmsnorm(x_.data(), lw.attn_norm, n, hp.n_embd, hp.rms_eps, xn_.data());
  const cpu::matmul_out qkv[] = {{lw.wq, q_.data()}, {lw.wk, k_.data()}, {lw.wv, v_.data()}};
  cpu::matmul_multi(qkv, xn_.data(), n, pool_);  // one quantization of xn, one pool sync
  add_bias(q_.data(), lw.bq, n, hp.q_dim());
  add_bias(k_.data(), lw.bk, n, hp.kv_dim());
  add_bias(v_.data(), lw.bv, n, hp.kv_dim());
  if (lw.q_norm) cpu::rmsnorm(q_.data(), lw.q_norm, n * hp.n_head, hp.head_dim, hp.rms_eps, q_.data());
  if (lw.k_norm) cpu::rmsnorm(k_.data(), lw.k_norm, n * hp.n_head_kv, hp.head_dim, hp.rms_eps, k_.data());
  cpu::rope(q_.data(), hp.n_head, rope_, hp.rope);
  cpu::rope(k_.data(), hp.n_head_kv, rope_, hp.rope);
  store_rows(cache_, true, layer, b, k_.data());
  store_rows(cache_, false, layer, b, v_.data());
  attend(layer, b);
  cpu::matmul(lw.wo, attn_.data(), n, proj_.data(), pool_);
  cpu::add(x_.data(), proj_.data(), x_.data(), n * hp.n_embd);
}

void cpu_forward::ffn_block(int64_t layer, int64_t n) {
  const auto& hp = model_.hparams();
  const layer_weights& lw = model_.layers()[static_cast<std::size_t>(layer)];
  cpu::rmsnorm(x_.data(), lw.ffn_norm, n, hp.n_embd, hp.rms_eps, xn_.data());
  const cpu::matmul_out gate_up[] = {{lw.w_gate, gate_.data()}, {lw.w_up, up_.data()}};
  cpu::matmul_multi(gate_up, xn_.data(), n, pool_);
  cpu::silu_mul(gate_.data(), up_.data(), gate_.data(), n * hp.n_ff);
  cpu::matmul(lw.w_down, gate_.data(), n, proj_.data(), pool_);
  cpu::add(x_.data(), proj_.data(), x_.data(), n * hp.n_embd);
}

std::span<const float> cpu_forward::decode(const batch& b) {
  validate_and_reserve(model_, cache_, b);
  const auto& hp = model_.hparams();
  const int64_t n = b.size();
  const int64_t n_out = b.n_logits();
  if (n == 0) return {};
  ensure_capacity(n, n_out);

  for (int64_t t = 0; t < n; ++t) model_.embed(b.tokens[t], x_.data() + t * hp.n_embd);
  rope_.build(b.positions.data(), n, hp.head_dim, hp.rope_freq_base);
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    attention_block(l, b);
    ffn_block(l, n);
  }
  if (n_out == 0) return {};
  int64_t r = 0;
  for (int64_t t = 0; t < n; ++t) {
    if (!b.want_logits[t]) continue;
    std::memcpy(out_x_.data() + r * hp.n_embd, x_.data() + t * hp.n_embd, hp.n_embd * sizeof(float));
    ++r;
  }
  cpu::rmsnorm(out_x_.data(), model_.output_norm(), n_out, hp.n_embd, hp.rms_eps, out_x_.data());
  cpu::matmul(model_.output(), out_x_.data(), n_out, logits_.data(), pool_);
  return {logits_.data(), static_cast<std::size_t>(n_out * hp.n_vocab)};
}

}  // namespace laneway::engine
