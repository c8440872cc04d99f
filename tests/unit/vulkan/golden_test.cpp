// The golden models through the Vulkan backend, with the engine's checker and bounds
// (tests/unit/engine/golden_check.hpp): exact greedy tokens for F32/F16 models, divergence only at
// a peer near-tie for quantized ones, top-5 log-probs within 5e-2.
#include <doctest/doctest.h>

#include <memory>

#include "backends/vulkan/vulkan_forward.hpp"
#include "tests/unit/engine/golden_check.hpp"
#include "tests/unit/vulkan/vk_test_util.hpp"

using namespace laneway::engine;
using namespace laneway::engine::test;

TEST_SUITE("vulkan") {
  TEST_CASE("golden: the Vulkan backend reproduces the peer's greedy continuations") {
    LANEWAY_VULKAN_OR_SKIP(g);
    for (const auto& path : model_files()) {
      SUBCASE(stem(path).c_str()) {
        check_golden_model(path, [](const model& m, kv_cache& cache) {
          return std::unique_ptr<forward_backend>(new laneway::vulkan::vulkan_forward(m, cache, true));
        });
      }
    }
  }
}
