// The forward pass on a Vulkan device, behind the engine's forward_backend seam. At start: the
// weights are uploaded once in their GGUF layout (vk_weights) and the KV pool is mirrored in
// device memory, one K and one V buffer per layer with the engine cache's own row layout
// (kv_cache::layer_rows / row_index), so blocks, prefix sharing, eviction and the scheduler stay
// in the engine, which only never reads those rows on the host. Per decode(batch): the host
// resolves the batch's page tables and rope angles into one small input buffer, records one
// command buffer with every op of every layer (barriers between dependent dispatches), submits
// it, waits on its timeline semaphore and returns the logits rows read back from host-visible memory.
// Same op order and semantics as cpu_forward (backends/engine/forward.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backends/engine/forward.hpp"
#include "backends/gpu/step_inputs.hpp"

namespace laneway::vulkan {

class vk_context;
class vk_pipelines;
class vk_weights;
class vk_buffer;

class vulkan_forward final : public engine::forward_backend {
 public:
  // Throws std::runtime_error when there is no usable device (allow_cpu_device: accept a CPU
  // device such as lavapipe), a buffer is too large for it, or memory runs out. The model and
  // cache must outlive this object.
  vulkan_forward(const engine::model& m, engine::kv_cache& cache, bool allow_cpu_device);
  ~vulkan_forward() override;

  std::span<const float> decode(const engine::batch& b) override;
  std::string_view name() const override { return "vulkan"; }
  int64_t n_vocab() const override { return model_.hparams().n_vocab; }
  const std::string& device_name() const;
  std::size_t weight_bytes() const;
  std::size_t kv_bytes() const;

 private:
  struct scratch;
  void upload_weights();
  void ensure_capacity(int64_t n_tokens, int64_t n_out);
  void fill_inputs(const engine::batch& b);  // io_ and the offsets below
  void record(const engine::batch& b);

  const engine::model& model_;
  engine::kv_cache& cache_;
  std::unique_ptr<vk_context> ctx_;
  std::unique_ptr<vk_pipelines> pipelines_;
  std::unique_ptr<vk_weights> weights_;
  std::vector<vk_buffer> kpool_, vpool_;  // per layer: [layer_rows, row_values] f16 or f32
  std::unique_ptr<scratch> s_;
  gpu::step_inputs in_;  // the step's input words and their offsets in the io buffer
};

}  // namespace laneway::vulkan
