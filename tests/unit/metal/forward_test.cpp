// metal_forward against cpu_forward on mixed steps over the paged KV cache (prefill chunks of
// several sequences, decode tokens, a one-token prompt), f32 and f16 pools, with the Vulkan
// forward test's bounds; the weights read in place from the mapped file; the golden
// stories260K continuations through the Metal backend; the backend choice.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "backends/engine/backend_registry.hpp"
#include "backends/engine/forward.hpp"
#include "backends/engine/paged_kv_cache.hpp"
#include "backends/metal/metal_backend.hpp"
#include "backends/metal/metal_forward.hpp"
#include "tests/unit/engine/forward_test_util.hpp"
#include "tests/unit/engine/golden_check.hpp"
#include "tests/unit/metal/mtl_test_util.hpp"

using namespace laneway;
using namespace laneway::engine;
using namespace laneway::engine::test;

namespace {

// Three steps over three sequences; every row asks for logits.
std::vector<batch> mixed_steps(int64_t n_vocab) {
  const auto tok = [n_vocab](int i) { return static_cast<int32_t>((i * 7919 + 13) % n_vocab); };
  std::vector<batch> steps(3);
  for (int p = 0; p < 7; ++p) steps[0].add(tok(p), p, 0, true);        // seq 0: 7-token prompt
  for (int p = 0; p < 3; ++p) steps[0].add(tok(50 + p), p, 1, true);   // seq 1: first chunk
  steps[1].add(tok(7), 7, 0, true);                                    // seq 0: decode
  for (int p = 3; p < 20; ++p) steps[1].add(tok(50 + p), p, 1, true);  // seq 1: 17-token chunk
  steps[1].add(tok(99), 0, 2, true);                                   // seq 2: one-token prompt
  steps[2].add(tok(8), 8, 0, true);
  steps[2].add(tok(70), 20, 1, true);
  steps[2].add(tok(100), 1, 2, true);
  return steps;
}

}  // namespace

TEST_SUITE("metal") {
  TEST_CASE("metal_forward matches cpu_forward on mixed batches over the paged cache") {
    LANEWAY_METAL_OR_SKIP(g);
    for (const std::string name : {"stories260K", "tinystories-656k-q8_0", "rand-qwen2-gpt2vocab-f16",
                                   "rand-llama-spmvocab-q4_0"}) {
      for (const auto kv_type : {cpu::dtype::f32, cpu::dtype::f16}) {
        CAPTURE(name);
        CAPTURE(kv_type == cpu::dtype::f16);
        const model m = model::open(data_path("models/" + name + ".gguf"));
        const kv_layout layout = kv_layout_for(m, kv_type);
        paged_kv_cache cpu_cache(layout, 16, 4, 3, 64, 1), gpu_cache(layout, 16, 4, 3, 64, 1);
        cpu_forward cpu(m, cpu_cache, 2);
        metal::metal_forward gpu(m, gpu_cache);
        if (!gpu.weights_copy_reason().empty()) MESSAGE(name << ": weights copied: " << gpu.weights_copy_reason());
        for (const batch& b : mixed_steps(m.hparams().n_vocab)) {
          const auto want = cpu.decode(b);
          const std::vector<float> expect(want.begin(), want.end());
          const auto got = gpu.decode(b);
          REQUIRE(got.size() == expect.size());
          const auto nv = static_cast<std::size_t>(m.hparams().n_vocab);
          double worst = 0;
          for (std::size_t r = 0; r < expect.size() / nv; ++r) {
            worst = std::max(worst, normalized_error(got.subspan(r * nv, nv), std::span(expect).subspan(r * nv, nv)));
          }
          // As on Vulkan: quantized weights amplify attention's other summation order (~1%).
          const bool amplified = m.main_type() != cpu::dtype::f32 && m.main_type() != cpu::dtype::f16;
          CHECK(worst < (amplified ? 3e-2 : 2e-3));
          MESSAGE(name << ": worst normalized logit error " << worst);
        }
      }
    }
  }

  TEST_CASE("the weights of an mmapped model are read in place, not copied") {
    LANEWAY_METAL_OR_SKIP(g);
    const model m = model::open(data_path("models/stories260K.gguf"));
    paged_kv_cache cache(kv_layout_for(m), 16, 4, 1, 64, 1);
    metal::metal_forward gpu(m, cache);
    // A page-aligned mapping is wrapped whole unless the file ends within 4 bytes of a page end.
    const std::size_t page = metal::mtl_buffer::page_size(), size = m.file().bytes().size();
    if ((size + page - 1) / page * page - size >= 4) CHECK(gpu.weights_copy_reason().empty());
    CHECK(gpu.weight_bytes() > 0);
  }

  TEST_CASE("golden: the Metal backend reproduces the peer's greedy continuations") {
    LANEWAY_METAL_OR_SKIP(g);
    for (const auto& path : model_files()) {
      if (stem(path) != "stories260K") continue;
      check_golden_model(
          path,
          [](const model& m, kv_cache& cache) {
            return std::unique_ptr<forward_backend>(new metal::metal_forward(m, cache));
          },
          2);
    }
  }

  TEST_CASE("choose_backend: metal explicitly and for auto when there is a device") {
    metal::register_backend();
    std::string why;
    const auto device = metal::mtl_context::probe(&why);
    const auto explicit_metal = choose_backend("metal");
    CHECK(explicit_metal.name == (device ? "metal" : "cpu"));
    if (!device) CHECK(explicit_metal.note.find("metal unavailable") != std::string::npos);
    const auto autoc = choose_backend("auto");
    if (device) CHECK(autoc.name == "metal");
    MESSAGE("auto -> " << autoc.name << " on " << autoc.device << (autoc.note.empty() ? "" : " (" + autoc.note + ")"));
  }
}
