// Device and backend choice: discrete > integrated > virtual > CPU, CPU devices only when asked
// for; the registry's auto / explicit / fallback rules with the Vulkan entry registered.
#include <doctest/doctest.h>

#include <stdexcept>

#include "backends/engine/backend_registry.hpp"
#include "backends/vulkan/vk_context.hpp"
#include "backends/vulkan/vulkan_backend.hpp"

using namespace laneway;
using namespace laneway::vulkan;

TEST_SUITE("vulkan") {
  TEST_CASE("choose_device prefers discrete, then integrated, virtual, CPU; CPU only when allowed") {
    std::vector<device_info> d = {
        {0, "llvmpipe", VK_PHYSICAL_DEVICE_TYPE_CPU, ""},
        {1, "virt", VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU, ""},
        {2, "igpu", VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU, ""},
        {3, "dgpu-old", VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, "Vulkan < 1.2"},
        {4, "dgpu", VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, ""},
    };
    CHECK(choose_device(d, false) == 4u);
    d.pop_back();
    CHECK(choose_device(d, false) == 2u);
    d.erase(d.begin() + 2);
    CHECK(choose_device(d, false) == 1u);
    d.erase(d.begin() + 1);
    CHECK_FALSE(choose_device(d, false).has_value());  // only the CPU device (and an unusable GPU)
    CHECK(choose_device(d, true) == 0u);
    CHECK_FALSE(choose_device({}, true).has_value());
  }

  TEST_CASE("choose_backend: cpu, explicit vulkan (a CPU device allowed), auto never on a CPU device") {
    register_backend();
    CHECK(engine::choose_backend("cpu").name == "cpu");
    CHECK_THROWS_AS(engine::choose_backend("cuda"), std::invalid_argument);
    const auto metal = engine::choose_backend("metal");  // not built on Linux: the CPU, with a note
#ifndef __APPLE__
    CHECK(metal.name == "cpu");
    CHECK(metal.note.find("metal") != std::string::npos);
#endif
    std::string why;
    const auto any = vk_context::probe(true, &why);
    const auto gpu = vk_context::probe(false, &why);
    const auto explicit_vk = engine::choose_backend("vulkan");
    CHECK(explicit_vk.name == (any ? "vulkan" : "cpu"));
    if (any) CHECK(explicit_vk.allow_cpu_device);
    const auto autoc = engine::choose_backend("auto");
    CHECK(autoc.name == (gpu ? "vulkan" : "cpu"));
    if (!gpu) CHECK_FALSE(autoc.note.empty());
    MESSAGE("auto -> " << autoc.name << " on " << autoc.device << (autoc.note.empty() ? "" : " (" + autoc.note + ")"));
  }
}
