// The model's weights for the Metal host, in their GGUF block layout (the kernels dequantize in
// registers). Unified memory: when the model file is mmapped at a page-aligned address (as
// model::open maps it) and fits one buffer (MTLDevice.maxBufferLength), the whole mapping is
// wrapped with newBufferWithBytesNoCopy and every tensor is a byte offset into it; nothing is
// copied and the GPU reads the file's pages. Otherwise (bytes not page-aligned, e.g. a file read
// into memory, or larger than one buffer) the tensors are copied into shared buffers packed as
// vk_weights packs them, and copy_reason() says why (the backend logs it once).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/cpu/quant_types.hpp"
#include "backends/metal/mtl_buffer.hpp"
#include "backends/metal/mtl_step.hpp"

namespace laneway::metal {

struct weight_ref {
  uint32_t chunk = 0;
  std::size_t offset = 0;  // bytes into the chunk
};

// A tensor as the kernels take it: the buffer bound at a 256-byte aligned offset, and the byte
// offset of the tensor from there (< 256, a 32-bit kernel param even in a file over 4 GiB).
struct weight_binding {
  binding buffer;
  uint32_t offset = 0;
};

class mtl_weights {
 public:
  // file: the model's bytes (model::file().bytes()); empty: always copy.
  mtl_weights(mtl_context& ctx, std::span<const std::byte> file);

  // Registers `bytes` at `data` (valid until upload(), or for the buffer's life when inside the
  // wrapped file); the same pointer again returns the first registration (tied embeddings).
  // Throws std::length_error for a tensor larger than a copy chunk.
  weight_ref add(const void* data, std::size_t bytes);
  // Wraps the file and/or allocates the copy chunks and copies the tensors outside the file.
  void upload();

  weight_ref at(const void* data) const;  // precondition: added
  weight_binding bind(const void* data) const;
  const mtl_buffer& chunk(uint32_t i) const { return chunks_[i]; }
  std::size_t bytes() const { return total_; }
  std::size_t copied_bytes() const { return copied_; }
  const std::string& copy_reason() const { return copy_reason_; }  // empty: no tensor was copied

 private:
  struct pending {
    const void* data;
    std::size_t bytes;
    weight_ref ref;
  };
  mtl_context& ctx_;
  std::span<const std::byte> file_;  // empty when it cannot be wrapped
  std::size_t limit_;                // bytes of a copy chunk at most
  uint32_t first_copy_chunk_;        // 1 when chunk 0 is the wrapped file
  std::vector<std::size_t> chunk_sizes_;  // copy chunks
  std::vector<pending> pending_;
  std::unordered_map<const void*, weight_ref> refs_;
  std::vector<mtl_buffer> chunks_;
  std::size_t total_ = 0, copied_ = 0;
  std::string copy_reason_;
};

}  // namespace laneway::metal
