// vulkan_forward against cpu_forward (both quantize activations to Q8_0 for Q8_0/Q4_0 weights,
// which reference_forward does not) on the shared-data models over the engine's paged KV cache:
// mixed steps (prefill chunks of several sequences, decode tokens, a one-token prompt) must give
// the same logits within a normalized error, with f32 and f16 pools.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "backends/engine/forward.hpp"
#include "backends/engine/paged_kv_cache.hpp"
#include "backends/vulkan/vulkan_forward.hpp"
#include "tests/unit/engine/forward_test_util.hpp"
#include "tests/unit/vulkan/vk_test_util.hpp"

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

TEST_SUITE("vulkan") {
  TEST_CASE("vulkan_forward matches cpu_forward on mixed batches over the paged cache") {
    LANEWAY_VULKAN_OR_SKIP(g);
    const vulkan::test::isa_scope isa;
    // The random qwen2 (NEOX rope, q/k/v biases) and Q4_0 llama models have vocabularies of
    // 32000+: each step's output matmul is their largest dispatch, still fine for three steps.
    for (const std::string name : {"stories260K", "tinystories-656k-q8_0", "rand-qwen2-gpt2vocab-f16",
                                   "rand-llama-spmvocab-q4_0"}) {
      for (const auto kv_type : {cpu::dtype::f32, cpu::dtype::f16}) {
        CAPTURE(name);
        CAPTURE(kv_type == cpu::dtype::f16);
        const model m = model::open(data_path("models/" + name + ".gguf"));
        const kv_layout layout = kv_layout_for(m, kv_type);
        paged_kv_cache cpu_cache(layout, 16, 4, 3, 64, 1), gpu_cache(layout, 16, 4, 3, 64, 1);
        cpu_forward cpu(m, cpu_cache, 2);
        vulkan::vulkan_forward gpu(m, gpu_cache, true);
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
          // Quantized weights: attention sums in another order than the CPU's (for an f16 pool
          // also the peer-matching f16 dot), and the Q8_0 activation rounding downstream
          // amplifies that last-bit difference (~1%; the first step, one position, is ~1e-7).
          const bool amplified = m.main_type() != cpu::dtype::f32 && m.main_type() != cpu::dtype::f16;
          CHECK(worst < (amplified ? 3e-2 : 2e-3));
          MESSAGE(name << ": worst normalized logit error " << worst);
        }
      }
    }
  }
}
