// The golden models through the Vulkan backend, with the engine's checker and bounds
// (tests/unit/engine/golden_check.hpp): exact greedy tokens for F32/F16 models, divergence only at
// a peer near-tie for quantized ones, top-5 log-probs within 5e-2. lavapipe runs a step in about
// 0.2 s whatever the batch, so CI checks the first prompt of stories260K (F32) and of
// tinystories-656k-q8_0 (the quantized path: in-kernel Q8_0 activations, the peer's
// roundings); LANEWAY_VULKAN_GOLDEN=all checks every model and prompt (docs/gpu.md has the
// errors). The forward test checks the other models against the CPU path, bit for bit.
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "backends/vulkan/vulkan_forward.hpp"
#include "tests/unit/engine/golden_check.hpp"
#include "tests/unit/vulkan/vk_test_util.hpp"

using namespace laneway::engine;
using namespace laneway::engine::test;

TEST_SUITE("vulkan") {
  TEST_CASE("golden: the Vulkan backend reproduces the peer's greedy continuations") {
    LANEWAY_VULKAN_OR_SKIP(g);
    const char* all_env = std::getenv("LANEWAY_VULKAN_GOLDEN");
    const bool all = all_env && std::strcmp(all_env, "all") == 0;
    for (const auto& path : model_files()) {
      const std::string name = stem(path);
      if (!all && name != "stories260K" && name != "tinystories-656k-q8_0") continue;
      SUBCASE(name.c_str()) {
        check_golden_model(
            path,
            [](const model& m, kv_cache& cache) {
              return std::unique_ptr<forward_backend>(new laneway::vulkan::vulkan_forward(m, cache, true));
            },
            all ? 1 << 30 : 1);
      }
    }
  }
}
