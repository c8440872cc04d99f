// Buffer allocation and uploads (see vk_buffer.hpp).
#include "backends/vulkan/vk_buffer.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "backends/vulkan/vk_step.hpp"

namespace laneway::vulkan {

// Sizes are rounded up to whole 16-byte units: the kernels read uint words, and a tensor that ends
// inside the buffer's last word (a 34-byte Q8_0 block) must still be inside the bound range.
vk_buffer::vk_buffer(vk_context& ctx, std::size_t bytes, kind k)
    : ctx_(&ctx), size_((std::max<std::size_t>(bytes, 16) + 15) & ~std::size_t{15}) {
  vk_api& api = ctx.api();
  VkBufferCreateInfo bci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bci.size = size_;
  bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  bci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  check(api.vkCreateBuffer(ctx.device(), &bci, nullptr, &buffer_), "vkCreateBuffer");
  VkMemoryRequirements req{};
  api.vkGetBufferMemoryRequirements(ctx.device(), buffer_, &req);
  const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  const uint32_t type = k == kind::host
                            ? ctx.memory_type(req.memoryTypeBits, host, VK_MEMORY_PROPERTY_HOST_CACHED_BIT)
                            : ctx.memory_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, host);
  VkMemoryAllocateInfo mai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  mai.allocationSize = req.size;
  mai.memoryTypeIndex = type;
  const VkResult r = api.vkAllocateMemory(ctx.device(), &mai, nullptr, &memory_);
  if (r != VK_SUCCESS) {
    release();
    throw std::runtime_error("Vulkan: cannot allocate " + std::to_string(req.size) + " bytes on " + ctx.info().name +
                             ": " + result_name(r));
  }
  check(api.vkBindBufferMemory(ctx.device(), buffer_, memory_, 0), "vkBindBufferMemory");
  // Map whatever is host-visible and coherent (also device-local memory on unified devices).
  if (k == kind::host || ctx.is_host_coherent(type)) {
    check(api.vkMapMemory(ctx.device(), memory_, 0, VK_WHOLE_SIZE, 0, &mapped_), "vkMapMemory");
  }
}

vk_buffer& vk_buffer::operator=(vk_buffer&& o) noexcept {
  if (this != &o) {
    release();
    ctx_ = std::exchange(o.ctx_, nullptr);
    buffer_ = std::exchange(o.buffer_, VK_NULL_HANDLE);
    memory_ = std::exchange(o.memory_, VK_NULL_HANDLE);
    size_ = std::exchange(o.size_, 0);
    mapped_ = std::exchange(o.mapped_, nullptr);
  }
  return *this;
}

vk_buffer::~vk_buffer() { release(); }

void vk_buffer::release() noexcept {
  if (!ctx_) return;
  vk_api& api = ctx_->api();
  if (mapped_) api.vkUnmapMemory(ctx_->device(), memory_);
  if (buffer_) api.vkDestroyBuffer(ctx_->device(), buffer_, nullptr);
  if (memory_) api.vkFreeMemory(ctx_->device(), memory_, nullptr);
  buffer_ = VK_NULL_HANDLE;
  memory_ = VK_NULL_HANDLE;
  mapped_ = nullptr;
}

void vk_buffer::write(std::size_t offset, const void* src, std::size_t bytes) {
  if (offset + bytes > size_) throw std::out_of_range("vk_buffer::write past the end");
  if (mapped_) {
    std::memcpy(static_cast<std::byte*>(mapped_) + offset, src, bytes);
    return;
  }
  constexpr std::size_t staging_bytes = 16u << 20;
  vk_buffer staging(*ctx_, std::min(bytes, staging_bytes), kind::host);
  for (std::size_t done = 0; done < bytes;) {
    const std::size_t n = std::min(bytes - done, staging.size());
    std::memcpy(staging.mapped(), static_cast<const std::byte*>(src) + done, n);
    vk_step step(*ctx_);
    step.begin();
    step.copy(staging.handle(), buffer_, offset + done, n);
    step.submit_and_wait();
    done += n;
  }
}

}  // namespace laneway::vulkan
