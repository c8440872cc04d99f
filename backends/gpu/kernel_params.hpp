// Push-constant blocks of the kernels, field for field as the `params` blocks in
// kernels/*.comp declare them (std430 push constants: 4-byte fields, no padding). Shared by the
// Vulkan and Metal hosts; shapes travel here, buffers as bindings.
#pragma once

#include <cstdint>

#include "backends/gpu/kernels.hpp"

namespace laneway::gpu {

constexpr uint32_t no_bias = 0xffffffffu;

struct embed_params {  // embed.comp
  uint32_t w_off, w_type, n_embd, n_tokens, tok_off;
};
struct rmsnorm_params {  // rmsnorm.comp
  uint32_t g_off, n, n_rows;
  float eps;
};
struct matmul_params {  // matmul.comp
  uint32_t w_off, w_type, n_in, n_out, n_tokens, x_stride, y_stride, bias_off, accumulate;
};
constexpr uint32_t matmul_tile = 8;  // tokens per workgroup (matmul.comp's TILE)
struct rope_params {  // rope.comp
  uint32_t n_tokens, n_heads, head_dim, neox, cos_off, sin_off;
};
struct kv_store_params {  // kv_store.comp
  uint32_t n_tokens, row_values, f16, rows_off;
};
struct attention_params {  // attention.comp
  uint32_t n_tokens, n_head, n_head_kv, head_dim, f16, seen_off, tab_off;
  float scale;
};
constexpr uint32_t attention_max_head_dim = 256;  // 4 * workgroup size
struct silu_mul_params {  // silu_mul.comp
  uint32_t n;
};
struct gather_rows_params {  // gather_rows.comp
  uint32_t n_rows, width, rows_off;
};

// Storage buffers (bindings 0 .. n_bindings-1) and push-constant bytes of each kernel, as its
// .comp declares them; both hosts bind by this table.
struct kernel_shape {
  uint32_t n_bindings;
  uint32_t push_bytes;
};
constexpr kernel_shape shape_of(kernel k) {
  switch (k) {
    case kernel::embed: return {3, sizeof(embed_params)};
    case kernel::rmsnorm: return {3, sizeof(rmsnorm_params)};
    case kernel::matmul: return {4, sizeof(matmul_params)};
    case kernel::rope: return {2, sizeof(rope_params)};
    case kernel::kv_store: return {5, sizeof(kv_store_params)};
    case kernel::attention: return {5, sizeof(attention_params)};
    case kernel::silu_mul: return {2, sizeof(silu_mul_params)};
    case kernel::gather_rows: return {3, sizeof(gather_rows_params)};
  }
  return {0, 0};
}

// The Metal host's binding model (cmake/msl_kernel.cmake, checked by the gpu.msl test): binding N
// of a kernel is [[buffer(N)]] and its params block is [[buffer(msl_params_index)]].
constexpr uint32_t msl_params_index = 30;

}  // namespace laneway::gpu
