// vulkan_forward (see vulkan_forward.hpp). The op sequence of a step is gpu::record_step
// (backends/gpu/forward_step.hpp), shared with the Metal host.
#include "backends/vulkan/vulkan_forward.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "backends/gpu/forward_step.hpp"
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
  scratch& s = *s_;
  gpu::step_buffers<binding> bufs{s.x, s.xn, s.q, s.k, s.v, s.attn, s.gate, s.up, s.out_x, s.logits, s.io, {}, {}};
  for (std::size_t l = 0; l < kpool_.size(); ++l) {
    bufs.kpool.emplace_back(kpool_[l]);
    bufs.vpool.emplace_back(vpool_[l]);
  }
  const auto bind = [&](const void* p) {
    const weight_ref r = weights_->at(p);
    return std::pair<binding, uint32_t>(weights_->chunk(r.chunk), r.offset);
  };
  s.step->begin();
  vk_ops ops(*s.step, *pipelines_);
  gpu::record_step(ops, model_, cache_.layout().type == cpu::dtype::f16, in_, bufs, u32(b.size()), u32(b.n_logits()),
                   bind);
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
