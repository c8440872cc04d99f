// matmul and embed kernels against the CPU for every weight type: rows that are not a multiple
// of the workgroup (or of the 8-token tile), one token, float rows whose length is not a multiple
// of 32 (or 8), bias and accumulation (the residual add). The matmul oracle is the CPU's own path
// (cpu::matmul: Q8_0 / Q8_K activations and integer block dots for quantized weights), on its
// AVX2 kernel set where the CPU has one, whose arithmetic the kernel follows step for step.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "backends/cpu/matmul.hpp"
#include "backends/gpu/kernel_params.hpp"
#include "backends/vulkan/vk_weights.hpp"
#include "tests/unit/cpu/test_util.hpp"
#include "tests/unit/vulkan/vk_test_util.hpp"

using namespace laneway;
using namespace laneway::vulkan;
using namespace laneway::vulkan::test;

namespace {

// n_out rows of n_in random values quantized to t, row after row (the GGUF layout).
std::vector<uint8_t> random_matrix(cpu::dtype t, int64_t n_out, int64_t n_in, uint32_t seed) {
  const std::size_t rb = cpu::row_bytes(t, n_in);
  std::vector<uint8_t> w(rb * static_cast<std::size_t>(n_out));
  for (int64_t r = 0; r < n_out; ++r) {
    const auto row = cpu::test::random_vector(static_cast<std::size_t>(n_in), seed + static_cast<uint32_t>(r));
    cpu::quantize_row(t, row.data(), w.data() + rb * static_cast<std::size_t>(r), n_in);
  }
  return w;
}

struct type_case {
  cpu::dtype type;
  std::vector<int64_t> widths;  // n_in values to try
};

const std::vector<type_case>& type_cases() {
  static const std::vector<type_case> cases = {
      {cpu::dtype::f32, {37, 64}},   {cpu::dtype::f16, {37, 96}},  {cpu::dtype::bf16, {33, 64}},
      {cpu::dtype::q8_0, {32, 96}},  {cpu::dtype::q4_0, {32, 160}}, {cpu::dtype::q4_k, {256, 512}},
      {cpu::dtype::q5_k, {256, 512}}, {cpu::dtype::q6_k, {256, 768}},
  };
  return cases;
}

}  // namespace

TEST_SUITE("vulkan") {
  TEST_CASE("matmul matches the reference for every weight type and odd shapes") {
    LANEWAY_VULKAN_OR_SKIP(g);
    const isa_scope isa;
    for (const type_case& tc : type_cases()) {
      double worst = 0;
      std::size_t n_same = 0, n_values = 0;
      for (const int64_t n_in : tc.widths) {
        for (const int64_t n_out : {int64_t{1}, int64_t{67}, int64_t{130}}) {
          for (const int64_t n_tok : {int64_t{1}, int64_t{9}}) {
            const std::string type_name = cpu::traits(tc.type).name;
            CAPTURE(type_name);
            CAPTURE(n_in);
            CAPTURE(n_out);
            CAPTURE(n_tok);
            const auto w = random_matrix(tc.type, n_out, n_in, 7);
            const auto x = cpu::test::random_vector(static_cast<std::size_t>(n_tok * n_in), 99);
            const auto bias = cpu::test::random_vector(static_cast<std::size_t>(n_out), 5);
            const auto y0 = cpu::test::random_vector(static_cast<std::size_t>(n_tok * n_out), 6);
            std::vector<float> expect(static_cast<std::size_t>(n_tok * n_out));
            const cpu::weight_view view{tc.type, w.data(), n_out, n_in};
            static cpu::thread_pool pool(1);
            cpu::matmul(view, x.data(), n_tok, expect.data(), pool);

            vk_weights weights(*g.ctx);
            const std::vector<uint8_t> pad(6, 0);
            weights.add(pad.data(), pad.size());  // so the matrix does not start at offset 0
            const weight_ref wr = weights.add(w.data(), w.size());
            const weight_ref br = weights.add(bias.data(), bias.size() * sizeof(float));
            weights.upload();
            vk_buffer xb = upload(*g.ctx, x), yb = upload(*g.ctx, std::vector<float>(expect.size(), 0.0f));
            vk_buffer acc = upload(*g.ctx, y0);
            const weight_arg wa{weights.chunk(wr.chunk), wr.offset, tc.type};
            run_ops(g, [&](vk_ops& ops) {
              ops.matmul(wa, uint32_t(n_in), uint32_t(n_out), xb, uint32_t(n_in), yb, uint32_t(n_out), uint32_t(n_tok),
                         wa.buffer, gpu::no_bias, false);
              ops.matmul(wa, uint32_t(n_in), uint32_t(n_out), xb, uint32_t(n_in), acc, uint32_t(n_out),
                         uint32_t(n_tok), weights.chunk(br.chunk), br.offset, true);
            });
            const auto got = download<float>(*g.ctx, yb, expect.size());
            const double err = cpu::test::normalized_error(got, expect);
            worst = std::max(worst, err);
            // The quantized activations are what this tells apart: against the f32 reference
            // (no activation quantization) the quantized types are ~1e-3 to 1e-2 off.
            CHECK(err < 1e-6);
            for (std::size_t i = 0; i < got.size(); ++i) n_same += got[i] == expect[i] ? 1 : 0;
            n_values += got.size();
            std::vector<float> expect_acc(expect.size());
            for (std::size_t i = 0; i < expect.size(); ++i) {
              expect_acc[i] = y0[i] + expect[i] + bias[i % static_cast<std::size_t>(n_out)];
            }
            CHECK(cpu::test::normalized_error(download<float>(*g.ctx, acc, expect.size()), expect_acc) < 1e-6);
          }
        }
      }
      MESSAGE(std::string(cpu::traits(tc.type).name) << " vs cpu::matmul (" << std::string(cpu::isa_name(cpu::active_isa()))
                                        << "): worst normalized error " << worst << ", " << n_same << " of "
                                        << n_values << " values identical");
      // Bit for bit against the AVX2 set on a CPU device (lavapipe), whose division is IEEE's;
      // a GPU's divide may be 2.5 ulp off, which moves the activation scales.
      if (cpu::active_isa() == cpu::isa::avx2 && g.ctx->info().type == VK_PHYSICAL_DEVICE_TYPE_CPU) {
        CHECK(n_same == n_values);
      }
    }
  }

  TEST_CASE("embed dequantizes the token rows for every weight type") {
    LANEWAY_VULKAN_OR_SKIP(g);
    for (const type_case& tc : type_cases()) {
      const int64_t n_embd = tc.widths.front(), n_vocab = 5;
      const std::string type_name = cpu::traits(tc.type).name;
      CAPTURE(type_name);
      const auto w = random_matrix(tc.type, n_vocab, n_embd, 11);
      const std::vector<uint32_t> tokens = {3, 0, 4, 3};
      std::vector<float> expect(tokens.size() * static_cast<std::size_t>(n_embd));
      const std::size_t rb = cpu::row_bytes(tc.type, n_embd);
      for (std::size_t t = 0; t < tokens.size(); ++t) {
        cpu::dequantize_row(tc.type, w.data() + rb * tokens[t], expect.data() + t * static_cast<std::size_t>(n_embd),
                            n_embd);
      }
      vk_weights weights(*g.ctx);
      const weight_ref wr = weights.add(w.data(), w.size());
      weights.upload();
      vk_buffer io = upload(*g.ctx, std::vector<uint32_t>{7, 7, 3, 0, 4, 3}, vk_buffer::kind::host);  // tokens at word 2
      vk_buffer x = upload(*g.ctx, std::vector<float>(expect.size(), -1.0f));
      run_ops(g, [&](vk_ops& ops) {
        ops.embed({weights.chunk(wr.chunk), wr.offset, tc.type}, uint32_t(n_embd), io, 2, uint32_t(tokens.size()), x);
      });
      CHECK(cpu::test::normalized_error(download<float>(*g.ctx, x, expect.size()), expect) < 1e-6);
    }
  }
}
