// One compute pipeline per kernel (backends/gpu/kernels.hpp), built once per device from the
// embedded SPIR-V. Buffers are bound with push descriptors (VK_KHR_push_descriptor) at each
// dispatch, shapes travel as push constants (backends/gpu/kernel_params.hpp), so no descriptor
// pools or sets exist and a step's recording only pushes.
#pragma once

#include <array>
#include <cstdint>

#include "backends/gpu/kernels.hpp"
#include "backends/vulkan/vk_context.hpp"

namespace laneway::vulkan {

class vk_pipelines {
 public:
  struct entry {
    VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
    VkPipelineLayout layout = VK_NULL_HANDLE;
    VkPipeline pipeline = VK_NULL_HANDLE;
    uint32_t n_bindings = 0;  // storage buffers 0 .. n_bindings-1
    uint32_t push_bytes = 0;  // size of the kernel's params block
  };

  explicit vk_pipelines(vk_context& ctx);  // throws std::runtime_error naming the kernel
  ~vk_pipelines();
  vk_pipelines(const vk_pipelines&) = delete;
  vk_pipelines& operator=(const vk_pipelines&) = delete;

  const entry& operator[](gpu::kernel k) const { return entries_[static_cast<std::size_t>(k)]; }

 private:
  vk_context& ctx_;
  std::array<entry, gpu::kernel_count> entries_{};
};

}  // namespace laneway::vulkan
