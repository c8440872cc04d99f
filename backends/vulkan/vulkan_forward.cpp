// vulkan_forward (see vulkan_forward.hpp). Per step, for n batch tokens (as cpu_forward):
//   x = embed(tokens)
//   per layer:  xn = rmsnorm(x);  q,k,v = xn Wq/Wk/Wv (+bias);  (qwen3) per-head rmsnorm of q, k
//               rope(q, k);  pool[layer][rows] = k, v;  attn = attention(q, pool[layer])
//               x += attn Wo;  xn = rmsnorm(x);  gate = silu(xn Wg) * (xn Wu);  x += gate Wd
//   logits = rmsnorm(x[rows that want them]) Wout
// The residual adds are the accumulating matmuls (x += ...), the biases their epilogue.
#include "backends/vulkan/vulkan_forward.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "backends/gpu/kernel_params.hpp"
#include "backends/gpu/model_weights.hpp"
#include "backends/gpu/step_inputs.hpp"
#include "backends/vulkan/vk_buffer.hpp"
#include "backends/vulkan/vk_context.hpp"
#include "backends/vulkan/vk_ops.hpp"
#include "backends/vulkan/vk_pipelines.hpp"
#include "backends/vulkan/vk_step.hpp"
#include "backends/vulkan/vk_weights.hpp"

namespace laneway::vulkan {

struct vulkan_forward::scratch {
  int64_t cap = 0, out_cap = 0;
  vk_buffer x, xn, q, k, v, attn, gate, up;  // [cap, width of each]
  vk_buffer out_x;                           // [out_cap, n_embd]
  vk_buffer logits;                          // host: [out_cap, n_vocab]
  vk_buffer io;                              // host: the step's inputs (fill_inputs)
  std::unique_ptr<vk_step> step;
};

namespace {

uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }

}  // namespace

vulkan_forward::vulkan_forward(const engine::model& m, engine::kv_cache& cache, bool allow_cpu_device)
    : model_(m), cache_(cache), s_(std::make_unique<scratch>()) {
  const auto& hp = m.hparams();
  const engine::kv_layout& kl = cache.layout();
  if (hp.head_dim > gpu::attention_max_head_dim || hp.head_dim % 2 != 0) {
    throw std::runtime_error("Vulkan: head_dim " + std::to_string(hp.head_dim) + " is not supported (even, <= 256)");
  }
  ctx_ = vk_context::create(allow_cpu_device);
  pipelines_ = std::make_unique<vk_pipelines>(*ctx_);
  upload_weights();

  const std::size_t layer_bytes = static_cast<std::size_t>(cache.layer_rows()) * kl.row_bytes();
  if (layer_bytes > ctx_->limits().maxStorageBufferRange) {
    throw std::runtime_error("Vulkan: one layer of the KV pool is " + std::to_string(layer_bytes) +
                             " bytes, more than the " + std::to_string(ctx_->limits().maxStorageBufferRange) +
                             "-byte buffer limit of " + ctx_->info().name + " (give the pool less memory)");
  }
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    kpool_.emplace_back(*ctx_, layer_bytes, vk_buffer::kind::device);
    vpool_.emplace_back(*ctx_, layer_bytes, vk_buffer::kind::device);
  }
  s_->step = std::make_unique<vk_step>(*ctx_);
}

vulkan_forward::~vulkan_forward() = default;

const std::string& vulkan_forward::device_name() const { return ctx_->info().name; }
std::size_t vulkan_forward::weight_bytes() const { return weights_->bytes(); }
std::size_t vulkan_forward::kv_bytes() const { return kpool_.empty() ? 0 : 2 * kpool_.size() * kpool_[0].size(); }

void vulkan_forward::upload_weights() {
  weights_ = std::make_unique<vk_weights>(*ctx_);
  gpu::for_each_weight(model_, [&](const void* data, std::size_t bytes) { weights_->add(data, bytes); });
  weights_->upload();
}

void vulkan_forward::ensure_capacity(int64_t n, int64_t n_out) {
  const auto& hp = model_.hparams();
  const std::size_t limit = ctx_->limits().maxStorageBufferRange;
  const auto make = [&](int64_t rows, int64_t width, vk_buffer::kind k) {
    const auto bytes = static_cast<std::size_t>(rows * width) * sizeof(float);
    if (bytes > limit) {
      throw std::length_error("Vulkan: a step of " + std::to_string(rows) + " rows of " + std::to_string(width) +
                              " values exceeds the device's buffer limit");
    }
    return vk_buffer(*ctx_, bytes, k);
  };
  const auto grow = [](int64_t need, int64_t have) { return std::max<int64_t>(need, std::max<int64_t>(16, 2 * have)); };
  if (n > s_->cap) {
    const int64_t cap = grow(n, s_->cap);
    const auto dev = vk_buffer::kind::device;
    s_->x = make(cap, hp.n_embd, dev);
    s_->xn = make(cap, hp.n_embd, dev);
    s_->q = make(cap, hp.q_dim(), dev);
    s_->k = make(cap, hp.kv_dim(), dev);
    s_->v = make(cap, hp.kv_dim(), dev);
    s_->attn = make(cap, hp.q_dim(), dev);
    s_->gate = make(cap, hp.n_ff, dev);
    s_->up = make(cap, hp.n_ff, dev);
    s_->cap = cap;
  }
  if (n_out > s_->out_cap) {
    const int64_t cap = std::max<int64_t>(n_out, std::max<int64_t>(4, 2 * s_->out_cap));
    s_->out_x = make(cap, hp.n_embd, vk_buffer::kind::device);
    s_->logits = make(cap, hp.n_vocab, vk_buffer::kind::host);
    s_->out_cap = cap;
  }
}

// The step's input words (backends/gpu/step_inputs.hpp) into the host-visible io buffer.
void vulkan_forward::fill_inputs(const engine::batch& b) {
  in_.build(model_.hparams(), cache_, b);
  const std::size_t bytes = in_.words.size() * sizeof(uint32_t);
  if (bytes > s_->io.size()) s_->io = vk_buffer(*ctx_, std::max(bytes, 2 * s_->io.size()), vk_buffer::kind::host);
  s_->io.write(0, in_.words.data(), bytes);
}

void vulkan_forward::record(const engine::batch& b) {
  const auto& hp = model_.hparams();
  const uint32_t n = u32(b.size()), n_out = u32(b.n_logits());
  const uint32_t embd = u32(hp.n_embd), kvd = u32(hp.kv_dim()), ff = u32(hp.n_ff);
  const uint32_t hd = u32(hp.head_dim);
  const bool f16 = cache_.layout().type == cpu::dtype::f16;
  const bool neox = hp.rope == cpu::rope_mode::neox;
  const float eps = hp.rms_eps, scale = 1.0f / std::sqrt(static_cast<float>(hp.head_dim));
  scratch& s = *s_;
  vk_ops ops(*s.step, *pipelines_);

  const auto mat = [&](const cpu::weight_view& w) {
    const weight_ref r = weights_->at(w.data);
    return weight_arg{weights_->chunk(r.chunk), r.offset, w.type};
  };
  const auto norm = [&](const float* g, binding x, binding y, uint32_t rows, uint32_t width) {
    const weight_ref r = weights_->at(g);
    ops.rmsnorm(weights_->chunk(r.chunk), r.offset, x, y, rows, width, eps);
  };
  // y (+)= x W^T (+ bias)
  const auto matmul = [&](const cpu::weight_view& w, const float* bias, binding x, binding y, uint32_t rows,
                          bool accumulate) {
    const weight_arg wa = mat(w);
    binding bias_buf = wa.buffer;
    uint32_t bias_off = gpu::no_bias;
    if (bias) {
      const weight_ref r = weights_->at(bias);
      bias_buf = weights_->chunk(r.chunk);
      bias_off = r.offset;
    }
    ops.matmul(wa, u32(w.n_in), u32(w.n_out), x, u32(w.n_in), y, u32(w.n_out), rows, bias_buf, bias_off, accumulate);
  };

  s.step->begin();
  ops.embed(mat(model_.token_embd()), embd, s.io, in_.tok_off, n, s.x);
  ops.barrier();
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const engine::layer_weights& lw = model_.layers()[static_cast<std::size_t>(l)];
    norm(lw.attn_norm, s.x, s.xn, n, embd);
    ops.barrier();
    matmul(lw.wq, lw.bq, s.xn, s.q, n, false);
    matmul(lw.wk, lw.bk, s.xn, s.k, n, false);
    matmul(lw.wv, lw.bv, s.xn, s.v, n, false);
    ops.barrier();
    if (lw.q_norm) norm(lw.q_norm, s.q, s.q, n * u32(hp.n_head), hd);
    if (lw.k_norm) norm(lw.k_norm, s.k, s.k, n * u32(hp.n_head_kv), hd);
    if (lw.q_norm || lw.k_norm) ops.barrier();
    ops.rope(s.q, s.io, in_.cos_off, in_.sin_off, n, u32(hp.n_head), hd, neox);
    ops.rope(s.k, s.io, in_.cos_off, in_.sin_off, n, u32(hp.n_head_kv), hd, neox);
    ops.barrier();
    const auto li = static_cast<std::size_t>(l);
    ops.kv_store(s.k, s.v, kpool_[li], vpool_[li], s.io, in_.rows_off, n, kvd, f16);
    ops.barrier();
    ops.attention(s.q, kpool_[li], vpool_[li], s.io, in_.seen_off, in_.tab_off, s.attn, n, u32(hp.n_head),
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
  ops.gather_rows(s.x, s.out_x, s.io, in_.out_off, n_out, embd);
  ops.barrier();
  norm(model_.output_norm(), s.out_x, s.out_x, n_out, embd);
  ops.barrier();
  matmul(model_.output(), nullptr, s.out_x, s.logits, n_out, false);
}

std::span<const float> vulkan_forward::decode(const engine::batch& b) {
  engine::validate_and_reserve(model_, cache_, b);
  const int64_t n = b.size(), n_out = b.n_logits();
  if (n == 0) return {};
  ensure_capacity(n, n_out);
  fill_inputs(b);
  record(b);
  s_->step->submit_and_wait();
  if (n_out == 0) return {};
  return {static_cast<const float*>(s_->logits.mapped()), static_cast<std::size_t>(n_out * model_.hparams().n_vocab)};
}

}  // namespace laneway::vulkan
