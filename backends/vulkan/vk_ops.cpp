// Params and grids of each op (see vk_ops.hpp); one workgroup is gpu::workgroup_size invocations.
#include "backends/vulkan/vk_ops.hpp"

#include <stdexcept>

#include "backends/gpu/kernel_params.hpp"

namespace laneway::vulkan {

using gpu::kernel;
constexpr uint32_t wg = gpu::workgroup_size;

void vk_ops::embed(const weight_arg& w, uint32_t n_embd, binding io, uint32_t tok_off, uint32_t n_tokens, binding x) {
  const gpu::embed_params p{w.offset, static_cast<uint32_t>(w.type), n_embd, n_tokens, tok_off};
  s_.dispatch(p_, kernel::embed, {w.buffer, io, x}, p, div_up(uint64_t{n_tokens} * div_up(n_embd, 32), wg));
}

void vk_ops::rmsnorm(binding weights, uint32_t g_off, binding x, binding y, uint32_t n_rows, uint32_t n, float eps) {
  const gpu::rmsnorm_params p{g_off, n, n_rows, eps};
  s_.dispatch(p_, kernel::rmsnorm, {weights, x, y}, p, n_rows);
}

void vk_ops::matmul(const weight_arg& w, uint32_t n_in, uint32_t n_out, binding x, uint32_t x_stride, binding y,
                    uint32_t y_stride, uint32_t n_tokens, binding bias_buf, uint32_t bias_off, bool accumulate) {
  const gpu::matmul_params p{w.offset, static_cast<uint32_t>(w.type), n_in, n_out, n_tokens,
                             x_stride, y_stride, bias_off, accumulate ? 1u : 0u};
  s_.dispatch(p_, kernel::matmul, {w.buffer, x, y, bias_buf}, p, n_out, div_up(n_tokens, gpu::matmul_tile));
}

void vk_ops::rope(binding x, binding io, uint32_t cos_off, uint32_t sin_off, uint32_t n_tokens, uint32_t n_heads,
                  uint32_t head_dim, bool neox) {
  const gpu::rope_params p{n_tokens, n_heads, head_dim, neox ? 1u : 0u, cos_off, sin_off};
  s_.dispatch(p_, kernel::rope, {x, io}, p, div_up(uint64_t{n_tokens} * n_heads * (head_dim / 2), wg));
}

void vk_ops::kv_store(binding k, binding v, binding kpool, binding vpool, binding io, uint32_t rows_off,
                      uint32_t n_tokens, uint32_t row_values, bool f16) {
  const gpu::kv_store_params p{n_tokens, row_values, f16 ? 1u : 0u, rows_off};
  const uint32_t per_row = f16 ? row_values / 2 : row_values;
  s_.dispatch(p_, kernel::kv_store, {k, v, kpool, vpool, io}, p, div_up(uint64_t{n_tokens} * per_row, wg));
}

void vk_ops::attention(binding q, binding kpool, binding vpool, binding io, uint32_t seen_off, uint32_t tab_off,
                       binding out, uint32_t n_tokens, uint32_t n_head, uint32_t n_head_kv, uint32_t head_dim,
                       bool f16, float scale) {
  if (head_dim > gpu::attention_max_head_dim || n_head_kv == 0 || n_head % n_head_kv != 0) {
    throw std::invalid_argument("Vulkan attention: head_dim > 256 or heads not grouped evenly");
  }
  const gpu::attention_params p{n_tokens, n_head, n_head_kv, head_dim, f16 ? 1u : 0u, seen_off, tab_off, scale};
  s_.dispatch(p_, kernel::attention, {q, kpool, vpool, io, out}, p, n_tokens * n_head);
}

void vk_ops::silu_mul(binding g, binding u, uint32_t n) {
  const gpu::silu_mul_params p{n};
  s_.dispatch(p_, kernel::silu_mul, {g, u}, p, div_up(n, wg));
}

void vk_ops::gather_rows(binding src, binding dst, binding io, uint32_t rows_off, uint32_t n_rows, uint32_t width) {
  const gpu::gather_rows_params p{n_rows, width, rows_off};
  s_.dispatch(p_, kernel::gather_rows, {src, dst, io}, p, div_up(uint64_t{n_rows} * width, wg));
}

}  // namespace laneway::vulkan
