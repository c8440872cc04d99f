// The "metal" registry entry (see metal_backend.hpp).
#include "backends/metal/metal_backend.hpp"

#include "backends/engine/backend_registry.hpp"
#include "backends/metal/metal_forward.hpp"
#include "backends/metal/mtl_context.hpp"

namespace laneway::metal {

void register_backend() {
  engine::backend_entry e;
  e.name = "metal";
  // Metal has no CPU devices: allow_cpu_device changes nothing.
  e.probe = [](bool, std::string* why) { return mtl_context::probe(why); };
  e.create = [](const engine::model& m, engine::kv_cache& cache, const engine::backend_choice&) {
    return std::unique_ptr<engine::forward_backend>(new metal_forward(m, cache));
  };
  engine::register_backend(std::move(e));
}

}  // namespace laneway::metal
