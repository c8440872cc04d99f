// The "vulkan" registry entry (see vulkan_backend.hpp).
#include "backends/vulkan/vulkan_backend.hpp"

#include "backends/engine/backend_registry.hpp"
#include "backends/vulkan/vk_context.hpp"
#include "backends/vulkan/vulkan_forward.hpp"

namespace laneway::vulkan {

void register_backend() {
  engine::backend_entry e;
  e.name = "vulkan";
  e.probe = [](bool allow_cpu_device, std::string* why) -> std::optional<std::string> {
    const auto d = vk_context::probe(allow_cpu_device, why);
    if (!d) return std::nullopt;
    return d->name + " (" + device_type_name(d->type) + ")";
  };
  e.create = [](const engine::model& m, engine::kv_cache& cache, const engine::backend_choice& c) {
    return std::unique_ptr<engine::forward_backend>(new vulkan_forward(m, cache, c.allow_cpu_device));
  };
  engine::register_backend(std::move(e));
}

}  // namespace laneway::vulkan
