// Command-buffer recording, barriers and submission on a timeline semaphore (see vk_step.hpp).
#include "backends/vulkan/vk_step.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "backends/vulkan/vk_buffer.hpp"

namespace laneway::vulkan {

binding::binding(const vk_buffer& b) : buffer(b.handle()) {}

vk_step::vk_step(vk_context& ctx) : ctx_(ctx) {
  vk_api& api = ctx.api();
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = ctx.command_pool();
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  check(api.vkAllocateCommandBuffers(ctx.device(), &ai, &cmd_), "vkAllocateCommandBuffers");
  VkSemaphoreTypeCreateInfo type{VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO};
  type.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
  type.initialValue = 0;
  VkSemaphoreCreateInfo si{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
  si.pNext = &type;
  check(api.vkCreateSemaphore(ctx.device(), &si, nullptr, &timeline_), "vkCreateSemaphore");
}

vk_step::~vk_step() {
  // The command buffer goes back with the pool; nothing waits on the semaphore here (submit waits).
  if (timeline_) ctx_.api().vkDestroySemaphore(ctx_.device(), timeline_, nullptr);
}

void vk_step::begin() {
  vk_api& api = ctx_.api();
  check(api.vkResetCommandBuffer(cmd_, 0), "vkResetCommandBuffer");
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  check(api.vkBeginCommandBuffer(cmd_, &bi), "vkBeginCommandBuffer");
  dispatches_ = 0;
}

void vk_step::dispatch_raw(const vk_pipelines& p, gpu::kernel k, std::initializer_list<binding> buffers,
                           const void* params, uint32_t bytes, uint32_t groups, uint32_t groups_z) {
  const vk_pipelines::entry& e = p[k];
  if (buffers.size() != e.n_bindings || bytes != e.push_bytes) {
    throw std::logic_error("kernel " + std::string(gpu::kernel_name(k)) + ": wrong bindings or params size");
  }
  if (groups == 0 || groups_z == 0) return;
  vk_api& api = ctx_.api();
  api.vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, e.pipeline);
  VkDescriptorBufferInfo infos[8];
  VkWriteDescriptorSet writes[8];
  uint32_t i = 0;
  for (const binding& b : buffers) {
    infos[i] = {b.buffer, 0, VK_WHOLE_SIZE};
    writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    writes[i].dstBinding = i;
    writes[i].descriptorCount = 1;
    writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[i].pBufferInfo = &infos[i];
    ++i;
  }
  api.vkCmdPushDescriptorSetKHR(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, e.layout, 0, i, writes);
  api.vkCmdPushConstants(cmd_, e.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, bytes, params);
  // x at most 32768 (common.glsl's flat_group); y covers the rest.
  const uint32_t gx = std::min<uint32_t>(groups, 32768u);
  api.vkCmdDispatch(cmd_, gx, div_up(groups, gx), groups_z);
  ++dispatches_;
}

void vk_step::barrier() {
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
  ctx_.api().vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                                  VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
}

void vk_step::copy(VkBuffer src, VkBuffer dst, VkDeviceSize dst_offset, VkDeviceSize bytes) {
  const VkBufferCopy region{0, dst_offset, bytes};
  ctx_.api().vkCmdCopyBuffer(cmd_, src, dst, 1, &region);
}

void vk_step::submit_and_wait(std::chrono::milliseconds timeout) {
  vk_api& api = ctx_.api();
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  api.vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                           VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
  check(api.vkEndCommandBuffer(cmd_), "vkEndCommandBuffer");
  const uint64_t signal = submitted_ + 1;
  VkTimelineSemaphoreSubmitInfo ti{VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO};
  ti.signalSemaphoreValueCount = 1;
  ti.pSignalSemaphoreValues = &signal;
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.pNext = &ti;
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cmd_;
  si.signalSemaphoreCount = 1;
  si.pSignalSemaphores = &timeline_;
  check(api.vkQueueSubmit(ctx_.queue(), 1, &si, VK_NULL_HANDLE), "vkQueueSubmit");
  submitted_ = signal;
  VkSemaphoreWaitInfo wi{VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO};
  wi.semaphoreCount = 1;
  wi.pSemaphores = &timeline_;
  wi.pValues = &signal;
  const auto ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count());
  const VkResult r = api.vkWaitSemaphores(ctx_.device(), &wi, ns);
  if (r == VK_TIMEOUT) {
    api.vkDeviceWaitIdle(ctx_.device());  // the semaphore and command buffer must not be in use when freed
    throw std::runtime_error("Vulkan: a step on " + ctx_.info().name + " took longer than " +
                             std::to_string(timeout.count()) + " ms");
  }
  check(r, "vkWaitSemaphores");
}

}  // namespace laneway::vulkan
