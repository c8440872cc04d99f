// Instance creation, physical-device enumeration and choice, logical device (see vk_context.hpp).
#include "backends/vulkan/vk_context.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace laneway::vulkan {
namespace {

int type_rank(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
    default: return 4;
  }
}

bool want_validation() {
  if (const char* e = std::getenv("LANEWAY_VULKAN_VALIDATION")) return std::strcmp(e, "0") != 0;
#ifdef NDEBUG
  return false;
#else
  return true;
#endif
}

bool has_layer(vk_api& api, const char* name) {
  uint32_t n = 0;
  if (api.vkEnumerateInstanceLayerProperties(&n, nullptr) != VK_SUCCESS) return false;
  std::vector<VkLayerProperties> layers(n);
  api.vkEnumerateInstanceLayerProperties(&n, layers.data());
  for (const auto& l : layers) {
    if (std::strcmp(l.layerName, name) == 0) return true;
  }
  return false;
}

constexpr const char* validation_layer = "VK_LAYER_KHRONOS_validation";

bool lists_extension(const std::vector<VkExtensionProperties>& ext, const char* name) {
  for (const auto& e : ext) {
    if (std::strcmp(e.extensionName, name) == 0) return true;
  }
  return false;
}

bool layer_has_extension(vk_api& api, const char* layer, const char* name) {
  uint32_t n = 0;
  if (api.vkEnumerateInstanceExtensionProperties(layer, &n, nullptr) != VK_SUCCESS) return false;
  std::vector<VkExtensionProperties> ext(n);
  api.vkEnumerateInstanceExtensionProperties(layer, &n, ext.data());
  return lists_extension(ext, name);
}

// Validation messages: warnings and errors go to stderr as one line each ("vulkan validation
// error: ..."), errors are also counted (vk_context::validation_errors) so a test can fail on one.
VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                     VkDebugUtilsMessageTypeFlagsEXT,
                                                     const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
  const bool error = severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  if (error) static_cast<std::atomic<uint64_t>*>(user)->fetch_add(1, std::memory_order_relaxed);
  std::fprintf(stderr, "vulkan validation %s: %s\n", error ? "error" : "warning",
               data && data->pMessage ? data->pMessage : "(no message)");
  return VK_FALSE;  // the call that triggered it proceeds, as the spec requires of applications
}

VkDebugUtilsMessengerCreateInfoEXT messenger_info(std::atomic<uint64_t>* errors) {
  VkDebugUtilsMessengerCreateInfoEXT mi{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
  mi.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  mi.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT;
  mi.pfnUserCallback = on_validation_message;
  mi.pUserData = errors;
  return mi;
}

// With `errors`, the validation layer is enabled and its messages reach on_validation_message
// (also those of vkCreateInstance itself, through pNext).
VkInstance create_instance(vk_api& api, std::atomic<uint64_t>* errors) {
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "laneway";
  app.apiVersion = VK_API_VERSION_1_2;
  VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ci.pApplicationInfo = &app;
  const char* debug_utils = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
  VkDebugUtilsMessengerCreateInfoEXT mi{};
  if (errors) {
    ci.enabledLayerCount = 1;
    ci.ppEnabledLayerNames = &validation_layer;
    if (layer_has_extension(api, validation_layer, debug_utils)) {
      ci.enabledExtensionCount = 1;
      ci.ppEnabledExtensionNames = &debug_utils;
      mi = messenger_info(errors);
      ci.pNext = &mi;
    }
  }
  VkInstance instance = VK_NULL_HANDLE;
  check(api.vkCreateInstance(&ci, nullptr, &instance), "vkCreateInstance");
  load_instance_fns(api, instance);
  return instance;
}

std::optional<uint32_t> compute_family(vk_api& api, VkPhysicalDevice pd) {
  uint32_t n = 0;
  api.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, nullptr);
  std::vector<VkQueueFamilyProperties> fams(n);
  api.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, fams.data());
  for (uint32_t i = 0; i < n; ++i) {
    if (fams[i].queueFlags & VK_QUEUE_COMPUTE_BIT) return i;
  }
  return std::nullopt;
}

bool has_device_extension(vk_api& api, VkPhysicalDevice pd, const char* name) {
  uint32_t n = 0;
  api.vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr);
  std::vector<VkExtensionProperties> ext(n);
  api.vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, ext.data());
  return lists_extension(ext, name);
}

std::vector<VkPhysicalDevice> physical_devices(vk_api& api, VkInstance instance) {
  uint32_t n = 0;
  api.vkEnumeratePhysicalDevices(instance, &n, nullptr);
  std::vector<VkPhysicalDevice> out(n);
  if (n) api.vkEnumeratePhysicalDevices(instance, &n, out.data());
  return out;
}

bool has_timeline_semaphores(vk_api& api, VkPhysicalDevice pd) {
  VkPhysicalDeviceTimelineSemaphoreFeatures timeline{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES};
  VkPhysicalDeviceFeatures2 f{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  f.pNext = &timeline;
  api.vkGetPhysicalDeviceFeatures2(pd, &f);
  return timeline.timelineSemaphore == VK_TRUE;
}

device_info describe(vk_api& api, VkPhysicalDevice pd, uint32_t index) {
  VkPhysicalDeviceProperties p{};
  api.vkGetPhysicalDeviceProperties(pd, &p);
  device_info d;
  d.index = index;
  d.name = p.deviceName;
  d.type = p.deviceType;
  if (p.apiVersion < VK_API_VERSION_1_2) d.why_unusable = "Vulkan < 1.2";
  else if (!compute_family(api, pd)) d.why_unusable = "no compute queue";
  else if (!has_device_extension(api, pd, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME)) d.why_unusable = "no VK_KHR_push_descriptor";
  else if (!has_timeline_semaphores(api, pd)) d.why_unusable = "no timeline semaphores";
  return d;
}

// Why no device was chosen, for the one log line.
std::string no_device_reason(const std::vector<device_info>& devices, bool allow_cpu) {
  if (devices.empty()) return "no Vulkan device";
  std::string s = allow_cpu ? "no usable Vulkan device:" : "no Vulkan GPU (CPU devices are used only when asked for):";
  for (const auto& d : devices) {
    s += " " + d.name + " (" + device_type_name(d.type) + (d.why_unusable.empty() ? "" : ", " + d.why_unusable) + ")";
  }
  return s;
}

}  // namespace

const char* device_type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
  }
}

std::optional<std::size_t> choose_device(const std::vector<device_info>& devices, bool allow_cpu) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < devices.size(); ++i) {
    const device_info& d = devices[i];
    const int rank = type_rank(d.type);
    if (!d.why_unusable.empty() || (!allow_cpu && rank >= 3)) continue;
    if (!best || rank < type_rank(devices[*best].type)) best = i;
  }
  return best;
}

std::optional<device_info> vk_context::probe(bool allow_cpu_device, std::string* why) {
  vk_api* global = load_vulkan(why);
  if (!global) return std::nullopt;
  vk_api local = *global;
  vk_api* api = &local;
  try {
    VkInstance instance = create_instance(*api, nullptr);
    std::vector<device_info> devices;
    const auto pds = physical_devices(*api, instance);
    for (uint32_t i = 0; i < pds.size(); ++i) devices.push_back(describe(*api, pds[i], i));
    api->vkDestroyInstance(instance, nullptr);
    if (const auto pick = choose_device(devices, allow_cpu_device)) return devices[*pick];
    if (why) *why = no_device_reason(devices, allow_cpu_device);
  } catch (const std::exception& e) {
    if (why) *why = e.what();
  }
  return std::nullopt;
}

std::unique_ptr<vk_context> vk_context::create(bool allow_cpu_device) {
  std::string why;
  vk_api* global = load_vulkan(&why);
  if (!global) throw std::runtime_error(why);
  std::unique_ptr<vk_context> c(new vk_context());
  c->api_ = *global;
  vk_api* api = &c->api_;
  c->validation_ = want_validation() && has_layer(*api, validation_layer);
  c->instance_ = create_instance(*api, c->validation_ ? &c->validation_errors_ : nullptr);
  if (c->validation_) {
    // Optional: a layer without VK_EXT_debug_utils still validates, printing its own way.
    auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        api->vkGetInstanceProcAddr(c->instance_, "vkCreateDebugUtilsMessengerEXT"));
    c->destroy_messenger_ = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        api->vkGetInstanceProcAddr(c->instance_, "vkDestroyDebugUtilsMessengerEXT"));
    const VkDebugUtilsMessengerCreateInfoEXT mi = messenger_info(&c->validation_errors_);
    if (create && c->destroy_messenger_) check(create(c->instance_, &mi, nullptr, &c->messenger_), "vkCreateDebugUtilsMessengerEXT");
  }

  std::vector<device_info> devices;
  const auto pds = physical_devices(*api, c->instance_);
  for (uint32_t i = 0; i < pds.size(); ++i) devices.push_back(describe(*api, pds[i], i));
  const auto pick = choose_device(devices, allow_cpu_device);
  if (!pick) throw std::runtime_error(no_device_reason(devices, allow_cpu_device));
  c->info_ = devices[*pick];
  c->phys_ = pds[c->info_.index];
  api->vkGetPhysicalDeviceProperties(c->phys_, &c->props_);
  api->vkGetPhysicalDeviceMemoryProperties(c->phys_, &c->mem_);
  c->family_ = *compute_family(*api, c->phys_);

  const float priority = 1.0f;
  VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  qci.queueFamilyIndex = c->family_;
  qci.queueCount = 1;
  qci.pQueuePriorities = &priority;
  const char* extensions[] = {VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME};
  // Steps are waited for on a timeline semaphore (vk_step), core in Vulkan 1.2 but opt-in.
  VkPhysicalDeviceTimelineSemaphoreFeatures timeline{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES};
  timeline.timelineSemaphore = VK_TRUE;
  VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  dci.pNext = &timeline;
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &qci;
  dci.enabledExtensionCount = 1;
  dci.ppEnabledExtensionNames = extensions;
  check(api->vkCreateDevice(c->phys_, &dci, nullptr, &c->device_), "vkCreateDevice");
  load_device_fns(*api, c->device_);
  api->vkGetDeviceQueue(c->device_, c->family_, 0, &c->queue_);

  VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pci.queueFamilyIndex = c->family_;
  check(api->vkCreateCommandPool(c->device_, &pci, nullptr, &c->pool_), "vkCreateCommandPool");
  return c;
}

vk_context::~vk_context() {
  if (device_) {
    api_.vkDeviceWaitIdle(device_);
    if (pool_) api_.vkDestroyCommandPool(device_, pool_, nullptr);
    api_.vkDestroyDevice(device_, nullptr);
  }
  if (messenger_) destroy_messenger_(instance_, messenger_, nullptr);
  if (instance_) api_.vkDestroyInstance(instance_, nullptr);
}

uint32_t vk_context::memory_type(uint32_t type_bits, VkMemoryPropertyFlags want, VkMemoryPropertyFlags nice) const {
  std::optional<uint32_t> fallback;
  for (uint32_t i = 0; i < mem_.memoryTypeCount; ++i) {
    const VkMemoryPropertyFlags f = mem_.memoryTypes[i].propertyFlags;
    if (!(type_bits & (1u << i)) || (f & want) != want) continue;
    if ((f & nice) == nice) return i;
    if (!fallback) fallback = i;
  }
  if (fallback) return *fallback;
  throw std::runtime_error("Vulkan: no memory type with the properties needed on " + info_.name);
}

bool vk_context::is_host_coherent(uint32_t memory_type) const {
  const VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  return (mem_.memoryTypes[memory_type].propertyFlags & want) == want;
}

}  // namespace laneway::vulkan
