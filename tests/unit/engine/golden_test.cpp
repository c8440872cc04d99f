// Whole-model check of the CPU backend against a peer engine: every model in
// ../shared/data/models through golden_check.hpp (the checker and its bounds are described
// there; docs/forward-pass.md records the errors each case prints).
#include <doctest/doctest.h>

#include <string>

#include "backends/engine/forward.hpp"
#include "tests/unit/engine/forward_test_util.hpp"
#include "tests/unit/engine/golden_check.hpp"

using namespace laneway::engine;
using namespace laneway::engine::test;

TEST_SUITE("engine") {
  TEST_CASE("golden: greedy continuations and top-5 log-probs match the peer") {
    for (const auto& path : model_files()) {
      SUBCASE(stem(path).c_str()) {
        check_golden_model(path, [](const model& m, kv_cache& cache) {
          return std::unique_ptr<forward_backend>(new cpu_forward(m, cache, 2));
        });
      }
    }
  }
}
