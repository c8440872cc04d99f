// The transformer ops as recorded dispatches: each method fills its kernel's params, picks the
// grid and records one dispatch into the step (no barrier: the caller places barriers between
// dependent ops). The forward pass and the op tests record through this one class, so the tests
// check exactly what the forward pass runs. Buffer shapes as in backends/gpu/kernels/*.comp.
#pragma once

#include <cstdint>

#include "backends/cpu/quant_types.hpp"
#include "backends/vulkan/vk_step.hpp"

namespace laneway::vulkan {

// A matrix w: [n_out, n_in] in GGUF blocks of `type` at byte `offset` of `buffer`.
struct weight_arg {
  binding buffer;
  uint32_t offset = 0;
  cpu::dtype type = cpu::dtype::f32;
};

class vk_ops {
 public:
  vk_ops(vk_step& step, const vk_pipelines& pipelines) : s_(step), p_(pipelines) {}

  // x: [n_tokens, n_embd] = dequant(w)[io[tok_off + t]]
  void embed(const weight_arg& w, uint32_t n_embd, binding io, uint32_t tok_off, uint32_t n_tokens, binding x);
  // y: [n_rows, n] = rmsnorm(x) * g; g: [n] f32 at byte g_off of `weights`; y may be x
  void rmsnorm(binding weights, uint32_t g_off, binding x, binding y, uint32_t n_rows, uint32_t n, float eps);
  // y[t, 0..n_out) (+)= x[t, 0..n_in) W^T (+ bias: [n_out] f32 at byte bias_off of bias_buf, or
  // bias_off == gpu::no_bias). accumulate: add to y (the residual add).
  void matmul(const weight_arg& w, uint32_t n_in, uint32_t n_out, binding x, uint32_t x_stride, binding y,
              uint32_t y_stride, uint32_t n_tokens, binding bias_buf, uint32_t bias_off, bool accumulate);
  // x: [n_tokens, n_heads, head_dim] rotated in place by io's cos/sin tables
  void rope(binding x, binding io, uint32_t cos_off, uint32_t sin_off, uint32_t n_tokens, uint32_t n_heads,
            uint32_t head_dim, bool neox);
  // kpool/vpool rows io[rows_off + t] = k[t] / v[t]
  void kv_store(binding k, binding v, binding kpool, binding vpool, binding io, uint32_t rows_off, uint32_t n_tokens,
                uint32_t row_values, bool f16);
  // out: [n_tokens, n_head, head_dim] = causal attention of q over the pooled rows (attention.comp)
  void attention(binding q, binding kpool, binding vpool, binding io, uint32_t seen_off, uint32_t tab_off,
                 binding out, uint32_t n_tokens, uint32_t n_head, uint32_t n_head_kv, uint32_t head_dim, bool f16,
                 float scale);
  void silu_mul(binding g, binding u, uint32_t n);  // g = silu(g) * u
  // dst: [n_rows, width] = src[io[rows_off + r]]
  void gather_rows(binding src, binding dst, binding io, uint32_t rows_off, uint32_t n_rows, uint32_t width);

  void barrier() { s_.barrier(); }

 private:
  vk_step& s_;
  const vk_pipelines& p_;
};

}  // namespace laneway::vulkan
