// metal_forward (see metal_forward.hpp). The op sequence of a step is gpu::record_step
// (backends/gpu/forward_step.hpp), shared with the Vulkan host; this file only owns the Metal
// buffers and the step. Every buffer is in shared storage, so inputs are written and logits
// read by the CPU in place.
#include "backends/metal/metal_forward.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "backends/gpu/forward_step.hpp"
#include "backends/gpu/kernel_params.hpp"
#include "backends/gpu/model_weights.hpp"
#include "backends/metal/mtl_buffer.hpp"
#include "backends/metal/mtl_context.hpp"
#include "backends/metal/mtl_ops.hpp"
#include "backends/metal/mtl_pipelines.hpp"
#include "backends/metal/mtl_step.hpp"
#include "backends/metal/mtl_weights.hpp"

namespace laneway::metal {

struct metal_forward::scratch {
  int64_t cap = 0, out_cap = 0;
  mtl_buffer x, xn, q, k, v, attn, gate, up;  // [cap, width of each]
  mtl_buffer out_x;                           // [out_cap, n_embd]
  mtl_buffer logits;                          // [out_cap, n_vocab]
  mtl_buffer io;                              // the step's inputs (fill_inputs)
  std::unique_ptr<mtl_step> step;
};

namespace {
uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }
}  // namespace

metal_forward::metal_forward(const engine::model& m, engine::kv_cache& cache)
    : model_(m), cache_(cache), s_(std::make_unique<scratch>()) {
  const auto& hp = m.hparams();
  const engine::kv_layout& kl = cache.layout();
  if (hp.head_dim > gpu::attention_max_head_dim || hp.head_dim % 2 != 0) {
    throw std::runtime_error("Metal: head_dim " + std::to_string(hp.head_dim) + " is not supported (even, <= 256)");
  }
  ctx_ = mtl_context::create();
  pipelines_ = std::make_unique<mtl_pipelines>(*ctx_);
  upload_weights();

  const std::size_t layer_bytes = static_cast<std::size_t>(cache.layer_rows()) * kl.row_bytes();
  if (layer_bytes > ctx_->max_buffer_bytes()) {
    throw std::runtime_error("Metal: one layer of the KV pool is " + std::to_string(layer_bytes) +
                             " bytes, more than the " + std::to_string(ctx_->max_buffer_bytes()) +
                             "-byte buffer limit of " + ctx_->name() + " (give the pool less memory)");
  }
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    kpool_.emplace_back(*ctx_, layer_bytes);
    vpool_.emplace_back(*ctx_, layer_bytes);
  }
  s_->step = std::make_unique<mtl_step>(*ctx_);
}

metal_forward::~metal_forward() = default;

const std::string& metal_forward::device_name() const { return ctx_->name(); }
std::size_t metal_forward::weight_bytes() const { return weights_->bytes(); }
std::size_t metal_forward::kv_bytes() const { return kpool_.empty() ? 0 : 2 * kpool_.size() * kpool_[0].size(); }
const std::string& metal_forward::weights_copy_reason() const { return weights_->copy_reason(); }

void metal_forward::upload_weights() {
  weights_ = std::make_unique<mtl_weights>(*ctx_, model_.file().bytes());
  gpu::for_each_weight(model_, [&](const void* data, std::size_t bytes) { weights_->add(data, bytes); });
  weights_->upload();
}

void metal_forward::ensure_capacity(int64_t n, int64_t n_out) {
  const auto& hp = model_.hparams();
  const std::size_t limit = ctx_->max_buffer_bytes();
  const auto make = [&](int64_t rows, int64_t width) {
    const auto bytes = static_cast<std::size_t>(rows * width) * sizeof(float);
    if (bytes > limit) {
      throw std::length_error("Metal: a step of " + std::to_string(rows) + " rows of " + std::to_string(width) +
                              " values exceeds the device's buffer limit");
    }
    return mtl_buffer(*ctx_, bytes);
  };
  const auto grow = [](int64_t need, int64_t have) { return std::max<int64_t>(need, std::max<int64_t>(16, 2 * have)); };
  if (n > s_->cap) {
    const int64_t cap = grow(n, s_->cap);
    s_->x = make(cap, hp.n_embd);
    s_->xn = make(cap, hp.n_embd);
    s_->q = make(cap, hp.q_dim());
    s_->k = make(cap, hp.kv_dim());
    s_->v = make(cap, hp.kv_dim());
    s_->attn = make(cap, hp.q_dim());
    s_->gate = make(cap, hp.n_ff);
    s_->up = make(cap, hp.n_ff);
    s_->cap = cap;
  }
  if (n_out > s_->out_cap) {
    const int64_t cap = std::max<int64_t>(n_out, std::max<int64_t>(4, 2 * s_->out_cap));
    s_->out_x = make(cap, hp.n_embd);
    s_->logits = make(cap, hp.n_vocab);
    s_->out_cap = cap;
  }
}

// The step's input words (backends/gpu/step_inputs.hpp) into the io buffer.
void metal_forward::fill_inputs(const engine::batch& b) {
  in_.build(model_.hparams(), cache_, b);
  const std::size_t bytes = in_.words.size() * sizeof(uint32_t);
  if (bytes > s_->io.size()) s_->io = mtl_buffer(*ctx_, std::max(bytes, 2 * s_->io.size()));
  s_->io.write(0, in_.words.data(), bytes);
}

void metal_forward::record(const engine::batch& b) {
  scratch& s = *s_;
  gpu::step_buffers<binding> bufs{s.x, s.xn, s.q, s.k, s.v, s.attn, s.gate, s.up, s.out_x, s.logits, s.io, {}, {}};
  for (std::size_t l = 0; l < kpool_.size(); ++l) {
    bufs.kpool.emplace_back(kpool_[l]);
    bufs.vpool.emplace_back(vpool_[l]);
  }
  const auto bind = [&](const void* p) {
    const weight_binding w = weights_->bind(p);
    return std::pair<binding, uint32_t>(w.buffer, w.offset);
  };
  s.step->begin();
  mtl_ops ops(*s.step, *pipelines_);
  gpu::record_step(ops, model_, cache_.layout().type == cpu::dtype::f16, in_, bufs, u32(b.size()), u32(b.n_logits()),
                   bind);
}

std::span<const float> metal_forward::decode(const engine::batch& b) {
  engine::validate_and_reserve(model_, cache_, b);
  const int64_t n = b.size(), n_out = b.n_logits();
  if (n == 0) return {};
  ensure_capacity(n, n_out);
  fill_inputs(b);
  record(b);
  s_->step->submit_and_wait();
  if (n_out == 0) return {};
  return {static_cast<const float*>(s_->logits.contents()), static_cast<std::size_t>(n_out * model_.hparams().n_vocab)};
}

}  // namespace laneway::metal
