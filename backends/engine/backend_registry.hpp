// Compute backends by name, and the choice among them. "cpu" (cpu_forward) is always there; a GPU
// host adds itself with register_backend() (the laneway binary's main() registers the hosts it
// was built with: vulkan::register_backend(), metal::register_backend()), so the engine, the
// scheduler and `laneway bench` create backends without depending on Vulkan or Metal.
//
// Choice (choose_backend):
//   cpu           the CPU.
//   vulkan/metal  that backend on its best device, a CPU device such as lavapipe included; when
//                 it is not built in or has no usable device: the CPU, and `note` says why
//                 (metal off Apple: "metal unavailable (Metal exists only on macOS); ...").
//   auto          metal when it has a device, else vulkan on a discrete or integrated (or
//                 virtual) GPU, never a CPU device, else the CPU (`note` says why).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace laneway::engine {

class forward_backend;
class kv_cache;
class model;

struct backend_choice {
  std::string name = "cpu";      // the backend that will run: "cpu", "vulkan", "metal"
  std::string device = "cpu";    // its device, as the backend names it
  bool allow_cpu_device = false; // GPU backends: a CPU device may serve (explicitly asked for)
  std::string note;              // why the request was not what runs (empty when it is)
};

struct backend_entry {
  std::string name;
  // The device name the backend would use, or nullopt with *why set.
  std::function<std::optional<std::string>(bool allow_cpu_device, std::string* why)> probe;
  std::function<std::unique_ptr<forward_backend>(const model&, kv_cache&, const backend_choice&)> create;
};

// Adds (or replaces) a backend by name. Not thread-safe: call at start-up.
void register_backend(backend_entry entry);
bool backend_registered(std::string_view name);

// requested: auto | cpu | vulkan | metal (throws std::invalid_argument for anything else).
backend_choice choose_backend(std::string_view requested);
// Creates the chosen backend; `threads` is for the CPU backend (<= 0: all cores). GPU backends
// throw std::runtime_error when their device cannot be set up.
std::unique_ptr<forward_backend> create_backend(const backend_choice& c, const model& m, kv_cache& cache, int threads);

}  // namespace laneway::engine
