// The model's weights on the device, uploaded once and kept in the GGUF block layout (the kernels
// dequantize in registers). Tensors are packed into a few chunk buffers, each at most the
// device's maxStorageBufferRange (128 MiB on lavapipe) and 1 GiB (byte offsets are 32-bit in
// the kernels); a tensor is addressed by its chunk and byte offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "backends/vulkan/vk_buffer.hpp"

namespace laneway::vulkan {

struct weight_ref {
  uint32_t chunk = 0;
  uint32_t offset = 0;  // bytes into the chunk
};

class vk_weights {
 public:
  explicit vk_weights(vk_context& ctx);

  // Registers `bytes` at `data` (which must stay valid until upload()); the same pointer again
  // returns the first registration (tied embeddings). Throws std::length_error for a tensor
  // larger than a chunk.
  weight_ref add(const void* data, std::size_t bytes);
  // Allocates the chunks and copies every registered tensor (once).
  void upload();

  weight_ref at(const void* data) const;  // precondition: added
  const vk_buffer& chunk(uint32_t i) const { return chunks_[i]; }
  std::size_t bytes() const { return total_; }
  std::size_t chunk_limit() const { return limit_; }

 private:
  struct pending {
    const void* data;
    std::size_t bytes;
    weight_ref ref;
  };
  vk_context& ctx_;
  std::size_t limit_;
  std::vector<std::size_t> chunk_sizes_;
  std::vector<pending> pending_;
  std::unordered_map<const void*, weight_ref> refs_;
  std::vector<vk_buffer> chunks_;
  std::size_t total_ = 0;
};

}  // namespace laneway::vulkan
