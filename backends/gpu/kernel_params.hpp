// Push-constant blocks of the kernels, field for field as the `params` blocks in
// kernels/*.comp declare them (std430 push constants: 4-byte fields, no padding). Shared by the
// Vulkan and Metal hosts; shapes travel here, buffers as bindings.
#pragma once

#include <cstdint>

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

}  // namespace laneway::gpu
