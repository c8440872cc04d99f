// Registers "metal" with the engine's backend registry (backends/engine/backend_registry.hpp):
// probing names the system's default Metal device, creating makes a metal_forward on it.
#pragma once

namespace laneway::metal {

void register_backend();

}  // namespace laneway::metal
