// The op sequence of one forward step, written once for both GPU hosts (vulkan_forward,
// metal_forward record through it, so both run the same ops in the same order with the same
// barriers). Per step, for n batch tokens (as cpu_forward, backends/engine/forward.cpp):
//   x = embed(tokens)
//   per layer:  xn = rmsnorm(x);  q,k,v = xn Wq/Wk/Wv (+bias);  (qwen3) per-head rmsnorm of q, k
//               rope(q, k);  pool[layer][rows] = k, v;  attn = attention(q, pool[layer])
//               x += attn Wo;  xn = rmsnorm(x);  gate = silu(xn Wg) * (xn Wu);  x += gate Wd
//   logits = rmsnorm(x[rows that want them]) Wout
// The residual adds are the accumulating matmuls (x += ...), the biases their epilogue.
#pragma once

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "backends/engine/model.hpp"
#include "backends/gpu/kernel_params.hpp"
#include "backends/gpu/step_inputs.hpp"

namespace laneway::gpu {

// The buffers one step reads and writes, as the host binds them.
template <class Binding>
struct step_buffers {
  Binding x, xn, q, k, v, attn, gate, up;  // [n, n_embd / q_dim / kv_dim / kv_dim / q_dim / n_ff / n_ff]
  Binding out_x;                           // [n_out, n_embd]
  Binding logits;                          // [n_out, n_vocab]
  Binding io;                              // in.words
  std::vector<Binding> kpool, vpool;       // per layer: [layer_rows, kv_dim] f16 or f32
};

// Records every op of one step of m through `ops` (gpu::ops on the host's step). bind(p) gives
// the binding and the byte offset (uint32_t) of the weight tensor at p, as a std::pair.
template <class Ops, class Bind>
void record_step(Ops& ops, const engine::model& m, bool f16, const step_inputs& in,
                 const step_buffers<typename Ops::binding>& s, uint32_t n, uint32_t n_out, const Bind& bind) {
  using binding = typename Ops::binding;
  const auto& hp = m.hparams();
  const auto u32 = [](int64_t v) { return static_cast<uint32_t>(v); };
  const uint32_t embd = u32(hp.n_embd), kvd = u32(hp.kv_dim()), ff = u32(hp.n_ff);
  const uint32_t hd = u32(hp.head_dim);
  const bool neox = hp.rope == cpu::rope_mode::neox;
  const float eps = hp.rms_eps, scale = 1.0f / std::sqrt(static_cast<float>(hp.head_dim));

  const auto mat = [&](const cpu::weight_view& w) {
    const auto [buf, off] = bind(w.data);
    return typename Ops::weight{buf, off, w.type};
  };
  const auto norm = [&](const float* g, binding x, binding y, uint32_t rows, uint32_t width) {
    const auto [buf, off] = bind(g);
    ops.rmsnorm(buf, off, x, y, rows, width, eps);
  };
  // y (+)= x W^T (+ bias)
  const auto matmul = [&](const cpu::weight_view& w, const float* bias, binding x, binding y, uint32_t rows,
                          bool accumulate) {
    const auto wa = mat(w);
    binding bias_buf = wa.buffer;
    uint32_t bias_off = no_bias;
    if (bias) std::tie(bias_buf, bias_off) = bind(bias);
    ops.matmul(wa, u32(w.n_in), u32(w.n_out), x, u32(w.n_in), y, u32(w.n_out), rows, bias_buf, bias_off, accumulate);
  };

  ops.embed(mat(m.token_embd()), embd, s.io, in.tok_off, n, s.x);
  ops.barrier();
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const engine::layer_weights& lw = m.layers()[static_cast<std::size_t>(l)];
    norm(lw.attn_norm, s.x, s.xn, n, embd);
    ops.barrier();
    matmul(lw.wq, lw.bq, s.xn, s.q, n, false);
    matmul(lw.wk, lw.bk, s.xn, s.k, n, false);
    matmul(lw.wv, lw.bv, s.xn, s.v, n, false);
    ops.barrier();
    if (lw.q_norm) norm(lw.q_norm, s.q, s.q, n * u32(hp.n_head), hd);
    if (lw.k_norm) norm(lw.k_norm, s.k, s.k, n * u32(hp.n_head_kv), hd);
    if (lw.q_norm || lw.k_norm) ops.barrier();
    ops.rope(s.q, s.io, in.cos_off, in.sin_off, n, u32(hp.n_head), hd, neox);
    ops.rope(s.k, s.io, in.cos_off, in.sin_off, n, u32(hp.n_head_kv), hd, neox);
    ops.barrier();
    const auto li = static_cast<std::size_t>(l);
    ops.kv_store(s.k, s.v, s.kpool[li], s.vpool[li], s.io, in.rows_off, n, kvd, f16);
    ops.barrier();
    ops.attention(s.q, s.kpool[li], s.vpool[li], s.io, in.seen_off, in.tab_off, s.attn, n, u32(hp.n_head),
                  u32(hp.n_head_kv), hd, f16, scale);
    ops.barrier();
    matmul(lw.wo, nullptr, s.attn, s.x, n, true);
    ops.barrier();
    norm(lw.ffn_norm, s.x, s.xn, n, embd);
    ops.barrier();
    matmul(lw.w_gate, nullptr, s.xn, s.gate, n, false);
    matmul(lw.w_up, nullptr, s.xn, s.up, n, false);
    ops.barrier();
    ops.silu_mul(s.gate, s.up, n * ff);
    ops.barrier();
    matmul(lw.w_down, nullptr, s.gate, s.x, n, true);
    ops.barrier();
  }
  if (n_out == 0) return;
  ops.gather_rows(s.x, s.out_x, s.io, in.out_off, n_out, embd);
  ops.barrier();
  norm(m.output_norm(), s.out_x, s.out_x, n_out, embd);
  ops.barrier();
  matmul(m.output(), nullptr, s.out_x, s.logits, n_out, false);
}

}  // namespace laneway::gpu
