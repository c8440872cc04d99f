// The backend registry and the choice rules (see backend_registry.hpp).
#include "backends/engine/backend_registry.hpp"

#include <stdexcept>
#include <vector>

#include "backends/engine/forward.hpp"

namespace laneway::engine {
namespace {

std::vector<backend_entry>& entries() {
  static std::vector<backend_entry> e;
  return e;
}

const backend_entry* find(std::string_view name) {
  for (const auto& e : entries()) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

// `name` on its device, or nullopt with *why.
std::optional<backend_choice> try_backend(std::string_view name, bool allow_cpu_device, std::string* why) {
  const backend_entry* e = find(name);
  if (!e) {
#ifndef __APPLE__
    if (name == "metal") {
      *why = "Metal exists only on macOS";
      return std::nullopt;
    }
#endif
    *why = "laneway was built without the " + std::string(name) + " backend";
    return std::nullopt;
  }
  const auto device = e->probe(allow_cpu_device, why);
  if (!device) return std::nullopt;
  return backend_choice{std::string(name), *device, allow_cpu_device, {}};
}

}  // namespace

void register_backend(backend_entry entry) {
  for (auto& e : entries()) {
    if (e.name == entry.name) {
      e = std::move(entry);
      return;
    }
  }
  entries().push_back(std::move(entry));
}

bool backend_registered(std::string_view name) { return name == "cpu" || find(name) != nullptr; }

backend_choice choose_backend(std::string_view requested) {
  if (requested == "cpu") return {};
  if (requested != "auto" && requested != "vulkan" && requested != "metal") {
    throw std::invalid_argument("backend '" + std::string(requested) + "' is not one of auto, cpu, vulkan, metal");
  }
  std::string why;
  if (requested != "auto") {
    if (auto c = try_backend(requested, true, &why)) return *c;
    backend_choice cpu;
    cpu.note = std::string(requested) + " unavailable (" + why + "); using the CPU backend";
    return cpu;
  }
  std::string why_metal, why_vulkan;
  if (auto c = try_backend("metal", false, &why_metal)) return *c;
  if (auto c = try_backend("vulkan", false, &why_vulkan)) return *c;
  backend_choice cpu;
#ifdef __APPLE__
  cpu.note = "no GPU backend (metal: " + why_metal + "; vulkan: " + why_vulkan + "); using the CPU backend";
#else
  cpu.note = "no GPU backend (vulkan: " + why_vulkan + "); using the CPU backend";
#endif
  return cpu;
}

std::unique_ptr<forward_backend> create_backend(const backend_choice& c, const model& m, kv_cache& cache, int threads) {
  if (c.name == "cpu") return std::make_unique<cpu_forward>(m, cache, threads);
  const backend_entry* e = find(c.name);
  if (!e) throw std::runtime_error("laneway was built without the " + c.name + " backend");
  return e->create(m, cache, c);
}

}  // namespace laneway::engine
