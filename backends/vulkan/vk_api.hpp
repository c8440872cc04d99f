// The Vulkan entry points laneway uses, loaded at run time from the system's loader
// (libvulkan.so.1 / libvulkan.1.dylib) with dlopen, so a machine without Vulkan still runs the
// binary (on the CPU backend) instead of failing to start. One table per process.
#pragma once

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan_core.h>

#include <string>

// Entry points by level: global (no instance), instance, device.
#define LANEWAY_VK_GLOBAL_FNS(X)         \
  X(vkCreateInstance)                    \
  X(vkEnumerateInstanceLayerProperties)  \
  X(vkEnumerateInstanceExtensionProperties)

#define LANEWAY_VK_INSTANCE_FNS(X)            \
  X(vkDestroyInstance)                        \
  X(vkEnumeratePhysicalDevices)               \
  X(vkGetPhysicalDeviceProperties)            \
  X(vkGetPhysicalDeviceQueueFamilyProperties) \
  X(vkGetPhysicalDeviceMemoryProperties)      \
  X(vkEnumerateDeviceExtensionProperties)     \
  X(vkGetPhysicalDeviceFeatures2)             \
  X(vkCreateDevice)                           \
  X(vkGetDeviceProcAddr)

#define LANEWAY_VK_DEVICE_FNS(X)      \
  X(vkDestroyDevice)                  \
  X(vkGetDeviceQueue)                 \
  X(vkCreateBuffer)                   \
  X(vkDestroyBuffer)                  \
  X(vkGetBufferMemoryRequirements)    \
  X(vkAllocateMemory)                 \
  X(vkFreeMemory)                     \
  X(vkBindBufferMemory)               \
  X(vkMapMemory)                      \
  X(vkUnmapMemory)                    \
  X(vkCreateShaderModule)             \
  X(vkDestroyShaderModule)            \
  X(vkCreateDescriptorSetLayout)      \
  X(vkDestroyDescriptorSetLayout)     \
  X(vkCreatePipelineLayout)           \
  X(vkDestroyPipelineLayout)          \
  X(vkCreateComputePipelines)         \
  X(vkDestroyPipeline)                \
  X(vkCreateCommandPool)              \
  X(vkDestroyCommandPool)             \
  X(vkAllocateCommandBuffers)         \
  X(vkBeginCommandBuffer)             \
  X(vkEndCommandBuffer)               \
  X(vkResetCommandBuffer)             \
  X(vkCmdBindPipeline)                \
  X(vkCmdPushConstants)               \
  X(vkCmdPushDescriptorSetKHR)        \
  X(vkCmdDispatch)                    \
  X(vkCmdPipelineBarrier)             \
  X(vkCmdCopyBuffer)                  \
  X(vkQueueSubmit)                    \
  X(vkCreateSemaphore)                \
  X(vkDestroySemaphore)               \
  X(vkWaitSemaphores)                 \
  X(vkDeviceWaitIdle)

namespace laneway::vulkan {

struct vk_api {
  PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
#define LANEWAY_VK_MEMBER(fn) PFN_##fn fn = nullptr;
  LANEWAY_VK_GLOBAL_FNS(LANEWAY_VK_MEMBER)
  LANEWAY_VK_INSTANCE_FNS(LANEWAY_VK_MEMBER)
  LANEWAY_VK_DEVICE_FNS(LANEWAY_VK_MEMBER)
#undef LANEWAY_VK_MEMBER
};

// The process's table with the global entry points loaded, or nullptr (why says what is
// missing: the loader library or vkGetInstanceProcAddr). Thread-safe; loads once.
vk_api* load_vulkan(std::string* why);
// Fill the instance- and device-level entries (throw std::runtime_error naming a missing one).
void load_instance_fns(vk_api& api, VkInstance instance);
void load_device_fns(vk_api& api, VkDevice device);

// "VK_ERROR_OUT_OF_DEVICE_MEMORY", ... for messages.
const char* result_name(VkResult r);
// Throws std::runtime_error("<what>: <result name>") unless r is VK_SUCCESS.
void check(VkResult r, const char* what);

}  // namespace laneway::vulkan
