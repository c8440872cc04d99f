// One recorded command buffer: the dispatches of a scheduler step (or an upload), with explicit
// barriers between dependent dispatches, submitted once and waited for on the step's timeline
// semaphore (submission n signals value n; the host waits for n). The forward pass records one of
// these per decode(batch); the op tests record one per op.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>

#include "backends/gpu/kernels.hpp"
#include "backends/vulkan/vk_context.hpp"
#include "backends/vulkan/vk_pipelines.hpp"

namespace laneway::vulkan {

class vk_buffer;

// A storage-buffer binding: the whole buffer (which is never larger than maxStorageBufferRange).
struct binding {
  VkBuffer buffer = VK_NULL_HANDLE;
  binding(const vk_buffer& b);  // NOLINT: implicit on purpose, dispatch lists read as buffers
  binding(VkBuffer b) : buffer(b) {}
};

class vk_step {
 public:
  explicit vk_step(vk_context& ctx);  // allocates the command buffer and the timeline semaphore
  ~vk_step();
  vk_step(const vk_step&) = delete;
  vk_step& operator=(const vk_step&) = delete;

  void begin();  // resets and begins recording
  // Binds kernel k with `buffers` (bindings 0, 1, ...) and `params` as push constants, and runs
  // `groups` workgroups (spread over x and y, see common.glsl) times groups_z.
  template <class Params>
  void dispatch(const vk_pipelines& p, gpu::kernel k, std::initializer_list<binding> buffers, const Params& params,
                uint32_t groups, uint32_t groups_z = 1) {
    dispatch_raw(p, k, buffers, &params, sizeof(Params), groups, groups_z);
  }
  // Makes every earlier dispatch's writes visible to every later dispatch.
  void barrier();
  void copy(VkBuffer src, VkBuffer dst, VkDeviceSize dst_offset, VkDeviceSize bytes);
  // Ends recording, submits, waits for the timeline to reach this submission (throws std::runtime_error on a device error or
  // when the step takes longer than `timeout`). Shader writes are visible to the host after.
  void submit_and_wait(std::chrono::milliseconds timeout = std::chrono::minutes(2));

  uint32_t dispatches() const { return dispatches_; }

 private:
  void dispatch_raw(const vk_pipelines& p, gpu::kernel k, std::initializer_list<binding> buffers, const void* params,
                    uint32_t bytes, uint32_t groups, uint32_t groups_z);

  vk_context& ctx_;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  VkSemaphore timeline_ = VK_NULL_HANDLE;
  uint64_t submitted_ = 0;  // the value the last submission signals
  uint32_t dispatches_ = 0;
};

// ceil(a / b) for grid sizes.
constexpr uint32_t div_up(uint64_t a, uint64_t b) { return static_cast<uint32_t>((a + b - 1) / b); }

}  // namespace laneway::vulkan
