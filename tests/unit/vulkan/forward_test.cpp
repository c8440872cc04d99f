// vulkan_forward against cpu_forward (on the CPU's AVX2 kernel set, whose roundings the kernels
// follow) on the shared-data models over the engine's paged KV cache: mixed steps (prefill
// chunks of several sequences, decode tokens, a one-token prompt) must give the same logits, bit
// for bit on lavapipe with the f16 pool the goldens use, with f32 and f16 pools.
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

// Three steps over three sequences. all_logits: every row asks for logits; else only each
// sequence's last row of the step (the output matmul and the row gather then skip rows).
std::vector<batch> mixed_steps(int64_t n_vocab, bool all_logits) {
  const auto tok = [n_vocab](int i) { return static_cast<int32_t>((i * 7919 + 13) % n_vocab); };
  const auto last = [all_logits](bool is_last) { return all_logits || is_last; };
  std::vector<batch> steps(3);
  for (int p = 0; p < 7; ++p) steps[0].add(tok(p), p, 0, last(p == 6));        // seq 0: 7-token prompt
  for (int p = 0; p < 3; ++p) steps[0].add(tok(50 + p), p, 1, last(p == 2));   // seq 1: first chunk
  steps[1].add(tok(7), 7, 0, true);                                             // seq 0: decode
  for (int p = 3; p < 20; ++p) steps[1].add(tok(50 + p), p, 1, last(p == 19));  // seq 1: 17-token chunk
  steps[1].add(tok(99), 0, 2, true);                                            // seq 2: one-token prompt
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
    // 32000+, and on lavapipe their output matmul over every row was 90% of this test: they ask
    // logits for each sequence's last row only, and run on the f16 pool only (the f32 pool's
    // kernels are the same there as for the two small models, which run both pools).
    for (const std::string name : {"stories260K", "tinystories-656k-q8_0", "rand-qwen2-gpt2vocab-f16",
                                   "rand-llama-spmvocab-q4_0"}) {
      const model m = model::open(data_path("models/" + name + ".gguf"));
      const bool small_vocab = m.hparams().n_vocab <= 4096;
      for (const auto kv_type : {cpu::dtype::f32, cpu::dtype::f16}) {
        if (!small_vocab && kv_type == cpu::dtype::f32) continue;
        CAPTURE(name);
        CAPTURE(kv_type == cpu::dtype::f16);
        const kv_layout layout = kv_layout_for(m, kv_type);
        paged_kv_cache cpu_cache(layout, 16, 4, 3, 64, 1), gpu_cache(layout, 16, 4, 3, 64, 1);
        cpu_forward cpu(m, cpu_cache, 2);
        vulkan::vulkan_forward gpu(m, gpu_cache, true);
        for (const batch& b : mixed_steps(m.hparams().n_vocab, small_vocab)) {
          const auto want = cpu.decode(b);
          const std::vector<float> expect(want.begin(), want.end());
          const auto got = gpu.decode(b);
          REQUIRE(got.size() == expect.size());
          const auto nv = static_cast<std::size_t>(m.hparams().n_vocab);
          double worst = 0;
          for (std::size_t r = 0; r < expect.size() / nv; ++r) {
            worst = std::max(worst, normalized_error(got.subspan(r * nv, nv), std::span(expect).subspan(r * nv, nv)));
          }
          // The kernels round as the CPU's AVX2 set does; on a CPU device (lavapipe, IEEE
          // divides) with an f16 pool every logit is the CPU's, bit for bit. Elsewhere a last-bit
          // difference (an f32 pool's q . k order, a GPU's 2.5-ulp divide in the activation
          // scales) is amplified by the quantized models' activation rounding, to ~1%.
          const bool quantized = m.main_type() != cpu::dtype::f32 && m.main_type() != cpu::dtype::f16;
          const bool same_bits = cpu::active_isa() == cpu::isa::avx2 && kv_type == cpu::dtype::f16 &&
                                 g.ctx->info().type == VK_PHYSICAL_DEVICE_TYPE_CPU;
          CHECK(worst < (same_bits ? 1e-7 : (quantized ? 3e-2 : 2e-3)));
          MESSAGE(name << ": worst normalized logit error " << worst);
        }
      }
    }
  }
}
