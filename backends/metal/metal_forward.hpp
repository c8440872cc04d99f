// The forward pass on the Metal device, behind the engine's forward_backend seam; the mirror of
// vulkan_forward, op for op. At start: the weights are wrapped in place (mtl_weights: the
// mmapped GGUF file, no copy, on unified memory) and the KV pool is one K and one V buffer per
// layer with the engine cache's own row layout (kv_cache::layer_rows / row_index), so blocks,
// prefix sharing, eviction and the scheduler stay in the engine. Per decode(batch): the host
// resolves the batch into the step's input words (gpu::step_inputs), records one command buffer
// with every op of every layer (gpu::record_step, the sequence the Vulkan host records too),
// commits it, waits, and returns the logits rows straight from shared memory.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backends/engine/forward.hpp"
#include "backends/gpu/step_inputs.hpp"

namespace laneway::metal {

class mtl_context;
class mtl_pipelines;
class mtl_weights;
class mtl_buffer;

class metal_forward final : public engine::forward_backend {
 public:
  // Throws std::runtime_error when there is no Metal device, a kernel does not compile, a buffer
  // is too large for the device, or memory runs out. The model and cache must outlive this.
  metal_forward(const engine::model& m, engine::kv_cache& cache);
  ~metal_forward() override;

  std::span<const float> decode(const engine::batch& b) override;
  std::string_view name() const override { return "metal"; }
  int64_t n_vocab() const override { return model_.hparams().n_vocab; }
  const std::string& device_name() const;
  std::size_t weight_bytes() const;
  std::size_t kv_bytes() const;
  // Empty when the weights are read in place from the mapped file; else why they were copied.
  const std::string& weights_copy_reason() const;

 private:
  struct scratch;
  void upload_weights();
  void ensure_capacity(int64_t n_tokens, int64_t n_out);
  void fill_inputs(const engine::batch& b);
  void record(const engine::batch& b);

  const engine::model& model_;
  engine::kv_cache& cache_;
  std::unique_ptr<mtl_context> ctx_;
  std::unique_ptr<mtl_pipelines> pipelines_;
  std::unique_ptr<mtl_weights> weights_;
  std::vector<mtl_buffer> kpool_, vpool_;  // per layer: [layer_rows, row_values] f16 or f32
  std::unique_ptr<scratch> s_;
  gpu::step_inputs in_;  // the step's input words and their offsets in the io buffer
};

}  // namespace laneway::metal
