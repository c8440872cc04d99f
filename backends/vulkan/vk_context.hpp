// A Vulkan instance, the chosen physical device, one logical device with one compute queue, and
// a command pool: what every other part of the Vulkan host borrows. Device choice: discrete >
// integrated > virtual > CPU (lavapipe/llvmpipe); a CPU device only when allowed (an explicit
// `--backend vulkan`, tests), never for `auto`. A device must offer compute, Vulkan 1.2 and
// VK_KHR_push_descriptor. Validation layers: on in debug builds (or LANEWAY_VULKAN_VALIDATION=1)
// when VK_LAYER_KHRONOS_validation is installed; its warnings and errors are printed to stderr,
// errors also counted (validation_errors()).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/vulkan/vk_api.hpp"

namespace laneway::vulkan {

struct device_info {
  uint32_t index = 0;  // in vkEnumeratePhysicalDevices order
  std::string name;
  VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
  std::string why_unusable;  // empty: usable
};

const char* device_type_name(VkPhysicalDeviceType t);  // "discrete", "integrated", "virtual", "cpu", "other"
// Index into `devices` of the best usable one, or nullopt. CPU devices only when allow_cpu.
std::optional<std::size_t> choose_device(const std::vector<device_info>& devices, bool allow_cpu);

class vk_context {
 public:
  // Creates the instance and the device on the best device (see above). Throws
  // std::runtime_error saying why there is none (no loader, no device, only a CPU device, ...).
  static std::unique_ptr<vk_context> create(bool allow_cpu_device);
  // The device create() would pick, without creating one; nullopt and why otherwise.
  static std::optional<device_info> probe(bool allow_cpu_device, std::string* why);
  ~vk_context();
  vk_context(const vk_context&) = delete;
  vk_context& operator=(const vk_context&) = delete;

  vk_api& api() const { return api_; }
  VkDevice device() const { return device_; }
  VkQueue queue() const { return queue_; }
  VkCommandPool command_pool() const { return pool_; }
  const device_info& info() const { return info_; }
  const VkPhysicalDeviceLimits& limits() const { return props_.limits; }
  bool validation() const { return validation_; }
  // Errors the validation layer reported since create() (0 without validation).
  uint64_t validation_errors() const { return validation_errors_.load(std::memory_order_relaxed); }
  // A memory type of the device in type_bits with all of `want` (preferring also `nice`); throws
  // when none fits.
  uint32_t memory_type(uint32_t type_bits, VkMemoryPropertyFlags want, VkMemoryPropertyFlags nice = 0) const;
  bool is_host_coherent(uint32_t memory_type) const;

 private:
  vk_context() = default;

  // This context's own table: device-level entries point into this device's driver.
  mutable vk_api api_;
  VkInstance instance_ = VK_NULL_HANDLE;
  VkPhysicalDevice phys_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t family_ = 0;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties props_{};
  VkPhysicalDeviceMemoryProperties mem_{};
  device_info info_;
  bool validation_ = false;
  std::atomic<uint64_t> validation_errors_{0};
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger_ = nullptr;
};

}  // namespace laneway::vulkan
