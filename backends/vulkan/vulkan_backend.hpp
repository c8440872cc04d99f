// Registers "vulkan" with the engine's backend registry (backends/engine/backend_registry.hpp):
// probing picks the device vk_context would (a CPU device only when allowed), creating makes a
// vulkan_forward on it.
#pragma once

namespace laneway::vulkan {

void register_backend();

}  // namespace laneway::vulkan
