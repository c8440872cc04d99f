// Loads the Vulkan loader with dlopen and the entry points in vk_api.hpp through
// vkGetInstanceProcAddr / vkGetDeviceProcAddr (the loader's own trampolines are skipped for
// device calls, which is also the faster path).
#include "backends/vulkan/vk_api.hpp"

#include <dlfcn.h>

#include <mutex>
#include <stdexcept>

namespace laneway::vulkan {

vk_api* load_vulkan(std::string* why) {
  static vk_api api;
  static std::string error;
  static std::once_flag once;
  std::call_once(once, [] {
#ifdef __APPLE__
    const char* names[] = {"libvulkan.1.dylib", "libMoltenVK.dylib"};
#else
    const char* names[] = {"libvulkan.so.1", "libvulkan.so"};
#endif
    void* lib = nullptr;
    for (const char* n : names) {
      if ((lib = dlopen(n, RTLD_NOW | RTLD_LOCAL))) break;
    }
    if (!lib) {
      error = std::string("no Vulkan loader (") + names[0] + " not found)";
      return;
    }
    api.vkGetInstanceProcAddr = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(lib, "vkGetInstanceProcAddr"));
    if (!api.vkGetInstanceProcAddr) {
      error = "the Vulkan loader has no vkGetInstanceProcAddr";
      return;
    }
#define LANEWAY_VK_LOAD_GLOBAL(fn) \
  api.fn = reinterpret_cast<PFN_##fn>(api.vkGetInstanceProcAddr(nullptr, #fn));
    LANEWAY_VK_GLOBAL_FNS(LANEWAY_VK_LOAD_GLOBAL)
#undef LANEWAY_VK_LOAD_GLOBAL
    if (!api.vkCreateInstance) error = "the Vulkan loader has no vkCreateInstance";
  });
  if (!error.empty()) {
    if (why) *why = error;
    return nullptr;
  }
  return &api;
}

void load_instance_fns(vk_api& api, VkInstance instance) {
#define LANEWAY_VK_LOAD_INSTANCE(fn)                                                   \
  api.fn = reinterpret_cast<PFN_##fn>(api.vkGetInstanceProcAddr(instance, #fn));       \
  if (!api.fn) throw std::runtime_error("Vulkan: instance function " #fn " missing");
  LANEWAY_VK_INSTANCE_FNS(LANEWAY_VK_LOAD_INSTANCE)
#undef LANEWAY_VK_LOAD_INSTANCE
}

void load_device_fns(vk_api& api, VkDevice device) {
#define LANEWAY_VK_LOAD_DEVICE(fn)                                                 \
  api.fn = reinterpret_cast<PFN_##fn>(api.vkGetDeviceProcAddr(device, #fn));       \
  if (!api.fn) throw std::runtime_error("Vulkan: device function " #fn " missing");
  LANEWAY_VK_DEVICE_FNS(LANEWAY_VK_LOAD_DEVICE)
#undef LANEWAY_VK_LOAD_DEVICE
}

const char* result_name(VkResult r) {
  switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    default: return "VkResult error";
  }
}

void check(VkResult r, const char* what) {
  if (r != VK_SUCCESS) throw std::runtime_error(std::string("Vulkan: ") + what + ": " + result_name(r));
}

}  // namespace laneway::vulkan
