// The transformer ops as recorded dispatches, written once for both GPU hosts: each method fills
// its kernel's params (kernel_params.hpp), picks the grid and records one dispatch into the step
// (no barrier: the caller places barriers between dependent ops). The forward passes and the op
// tests record through this one template, as vk_ops (Vulkan) and mtl_ops (Metal), so the tests
// check exactly what the forward passes run and both hosts launch every kernel alike.
// Buffer shapes as in backends/gpu/kernels/*.comp. One workgroup is gpu::workgroup_size
// invocations. Step: vk_step or mtl_step; Binding: that host's buffer binding.
#pragma once

#include <cstdint>
#include <stdexcept>

#include "backends/cpu/quant_types.hpp"
#include "backends/gpu/kernel_params.hpp"
#include "backends/gpu/kernels.hpp"

namespace laneway::gpu {

// A matrix w: [n_out, n_in] in GGUF blocks of `type` at byte `offset` of `buffer`.
template <class Binding>
struct weight_arg {
  Binding buffer;
  uint32_t offset = 0;
  cpu::dtype type = cpu::dtype::f32;
};

template <class Step, class Pipelines, class Binding>
class ops {
 public:
  using binding = Binding;
  using weight = weight_arg<Binding>;

  ops(Step& step, const Pipelines& pipelines) : s_(step), p_(pipelines) {}

  // x: [n_tokens, n_embd] = dequant(w)[io[tok_off + t]]
  void embed(const weight& w, uint32_t n_embd, binding io, uint32_t tok_off, uint32_t n_tokens, binding x) {
    const embed_params p{w.offset, static_cast<uint32_t>(w.type), n_embd, n_tokens, tok_off};
    s_.dispatch(p_, kernel::embed, {w.buffer, io, x}, p, groups(uint64_t{n_tokens} * groups(n_embd, 32)));
  }
  // y: [n_rows, n] = rmsnorm(x) * g; g: [n] f32 at byte g_off of `weights`; y may be x
  void rmsnorm(binding weights, uint32_t g_off, binding x, binding y, uint32_t n_rows, uint32_t n, float eps) {
    const rmsnorm_params p{g_off, n, n_rows, eps};
    s_.dispatch(p_, kernel::rmsnorm, {weights, x, y}, p, n_rows);
  }
  // y[t, 0..n_out) (+)= x[t, 0..n_in) W^T (+ bias: [n_out] f32 at byte bias_off of bias_buf, or
  // bias_off == no_bias). accumulate: add to y (the residual add).
  void matmul(const weight& w, uint32_t n_in, uint32_t n_out, binding x, uint32_t x_stride, binding y,
              uint32_t y_stride, uint32_t n_tokens, binding bias_buf, uint32_t bias_off, bool accumulate) {
    const matmul_params p{w.offset, static_cast<uint32_t>(w.type), n_in, n_out, n_tokens,
                          x_stride, y_stride, bias_off, accumulate ? 1u : 0u};
    s_.dispatch(p_, kernel::matmul, {w.buffer, x, y, bias_buf}, p, n_out, groups(n_tokens, matmul_tile));
  }
  // x: [n_tokens, n_heads, head_dim] rotated in place by io's cos/sin tables
  void rope(binding x, binding io, uint32_t cos_off, uint32_t sin_off, uint32_t n_tokens, uint32_t n_heads,
            uint32_t head_dim, bool neox) {
    const rope_params p{n_tokens, n_heads, head_dim, neox ? 1u : 0u, cos_off, sin_off};
    s_.dispatch(p_, kernel::rope, {x, io}, p, groups(uint64_t{n_tokens} * n_heads * (head_dim / 2)));
  }
  // kpool/vpool rows io[rows_off + t] = k[t] / v[t]
  void kv_store(binding k, binding v, binding kpool, binding vpool, binding io, uint32_t rows_off, uint32_t n_tokens,
                uint32_t row_values, bool f16) {
    const kv_store_params p{n_tokens, row_values, f16 ? 1u : 0u, rows_off};
    const uint32_t per_row = f16 ? row_values / 2 : row_values;
    s_.dispatch(p_, kernel::kv_store, {k, v, kpool, vpool, io}, p, groups(uint64_t{n_tokens} * per_row));
  }
  // out: [n_tokens, n_head, head_dim] = causal attention of q over the pooled rows (attention.comp)
  void attention(binding q, binding kpool, binding vpool, binding io, uint32_t seen_off, uint32_t tab_off,
                 binding out, uint32_t n_tokens, uint32_t n_head, uint32_t n_head_kv, uint32_t head_dim, bool f16,
                 float scale) {
    if (head_dim > attention_max_head_dim || n_head_kv == 0 || n_head % n_head_kv != 0) {
      throw std::invalid_argument("GPU attention: head_dim > 256 or heads not grouped evenly");
    }
    const attention_params p{n_tokens, n_head, n_head_kv, head_dim, f16 ? 1u : 0u, seen_off, tab_off, scale};
    s_.dispatch(p_, kernel::attention, {q, kpool, vpool, io, out}, p, n_tokens * n_head);
  }
  void silu_mul(binding g, binding u, uint32_t n) {  // g = silu(g) * u
    const silu_mul_params p{n};
    s_.dispatch(p_, kernel::silu_mul, {g, u}, p, groups(n));
  }
  // dst: [n_rows, width] = src[io[rows_off + r]]
  void gather_rows(binding src, binding dst, binding io, uint32_t rows_off, uint32_t n_rows, uint32_t width) {
    const gather_rows_params p{n_rows, width, rows_off};
    s_.dispatch(p_, kernel::gather_rows, {src, dst, io}, p, groups(uint64_t{n_rows} * width));
  }

  void barrier() { s_.barrier(); }

 private:
  // ceil(n / per) workgroups
  static uint32_t groups(uint64_t n, uint64_t per = workgroup_size) { return static_cast<uint32_t>((n + per - 1) / per); }

  Step& s_;
  const Pipelines& p_;
};

}  // namespace laneway::gpu
