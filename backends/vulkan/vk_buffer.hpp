// One VkBuffer with its own memory: device-local (weights, KV pool, activations) or host-visible
// and mapped (per-step inputs, logits). On a unified-memory device (integrated GPUs, lavapipe)
// device-local memory is usually host-visible too, and uploads are then a plain memcpy.
#pragma once

#include <cstddef>

#include "backends/vulkan/vk_context.hpp"

namespace laneway::vulkan {

class vk_buffer {
 public:
  enum class kind { device, host };  // host: HOST_VISIBLE | HOST_COHERENT, mapped, cached if any

  vk_buffer() = default;
  // Throws std::runtime_error when the memory cannot be had (naming the bytes).
  vk_buffer(vk_context& ctx, std::size_t bytes, kind k);
  ~vk_buffer();
  vk_buffer(vk_buffer&& o) noexcept { *this = std::move(o); }
  vk_buffer& operator=(vk_buffer&& o) noexcept;

  VkBuffer handle() const { return buffer_; }
  std::size_t size() const { return size_; }
  void* mapped() const { return mapped_; }  // host buffers, and device buffers in host-visible memory

  // Copies bytes into the buffer at offset: directly when mapped, else through a staging buffer
  // and a transfer on the queue (waited for).
  void write(std::size_t offset, const void* src, std::size_t bytes);

 private:
  void release() noexcept;

  vk_context* ctx_ = nullptr;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  std::size_t size_ = 0;
  void* mapped_ = nullptr;
};

}  // namespace laneway::vulkan
