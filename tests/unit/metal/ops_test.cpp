// Every kernel but attention through the Metal host against the CPU, by normalized error: matmul
// for every weight type against cpu::matmul (rows that are not a multiple of the workgroup or the
// 8-token tile, one token, float rows whose length is not a multiple of 32, bias and
// accumulation), embed, rmsnorm (also in place), rope in both modes, silu_mul, gather_rows.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "backends/cpu/matmul.hpp"
#include "backends/cpu/ops.hpp"
#include "backends/cpu/reference.hpp"
#include "backends/gpu/kernel_params.hpp"
#include "backends/metal/mtl_weights.hpp"
#include "tests/unit/cpu/test_util.hpp"
#include "tests/unit/metal/mtl_test_util.hpp"

using namespace laneway;
using namespace laneway::metal;
using namespace laneway::metal::test;
using cpu::test::normalized_error;
using cpu::test::random_vector;

namespace {

// n_out rows of n_in random values quantized to t, row after row (the GGUF layout).
std::vector<uint8_t> quantized_matrix(cpu::dtype t, int64_t n_out, int64_t n_in, uint32_t seed) {
  const std::size_t rb = cpu::row_bytes(t, n_in);
  std::vector<uint8_t> w(rb * static_cast<std::size_t>(n_out));
  for (int64_t r = 0; r < n_out; ++r) {
    const auto row = random_vector(static_cast<std::size_t>(n_in), seed + static_cast<uint32_t>(r));
    cpu::quantize_row(t, row.data(), w.data() + rb * static_cast<std::size_t>(r), n_in);
  }
  return w;
}

struct type_widths {
  cpu::dtype type;
  std::vector<int64_t> n_in;
};
const std::vector<type_widths> every_type = {
    {cpu::dtype::f32, {37, 64}},   {cpu::dtype::f16, {37, 96}},   {cpu::dtype::bf16, {33, 64}},
    {cpu::dtype::q8_0, {32, 96}},  {cpu::dtype::q4_0, {32, 160}}, {cpu::dtype::q4_k, {256, 512}},
    {cpu::dtype::q5_k, {256, 512}}, {cpu::dtype::q6_k, {256, 768}},
};

}  // namespace

TEST_SUITE("metal") {
  TEST_CASE("matmul matches the reference for every weight type and odd shapes") {
    LANEWAY_METAL_OR_SKIP(g);
    static cpu::thread_pool pool(1);
    for (const type_widths& tc : every_type) {
      for (const int64_t n_in : tc.n_in) {
        for (const int64_t n_out : {int64_t{1}, int64_t{67}, int64_t{130}}) {
          for (const int64_t n_tok : {int64_t{1}, int64_t{9}}) {
            const std::string type_name = cpu::traits(tc.type).name;
            CAPTURE(type_name);
            CAPTURE(n_in);
            CAPTURE(n_out);
            CAPTURE(n_tok);
            const auto w = quantized_matrix(tc.type, n_out, n_in, 7);
            const auto x = random_vector(static_cast<std::size_t>(n_tok * n_in), 99);
            const auto bias = random_vector(static_cast<std::size_t>(n_out), 5);
            const auto y0 = random_vector(static_cast<std::size_t>(n_tok * n_out), 6);
            std::vector<float> expect(static_cast<std::size_t>(n_tok * n_out));
            const cpu::weight_view view{tc.type, w.data(), n_out, n_in};
            // The oracle is the CPU's own path, which quantizes the activations of quantized
            // weights as the kernel does (Q8_0, Q8_K); its kernel set here is NEON (or AVX2 /
            // AVX-512 on an Intel Mac), whose summation order differs from the kernel's in the
            // last bits only, hence 1e-5 (the f32 reference is ~1e-3 to 1e-2 off for those types).
            cpu::matmul(view, x.data(), n_tok, expect.data(), pool);
            mtl_weights weights(*g.ctx, {});
            const std::vector<uint8_t> pad(6, 0);
            weights.add(pad.data(), pad.size());  // so the matrix does not start at offset 0
            weights.add(w.data(), w.size());
            weights.add(bias.data(), bias.size() * sizeof(float));
            weights.upload();
            const weight_binding wb = weights.bind(w.data()), bb = weights.bind(bias.data());
            const weight_arg wa{wb.buffer, wb.offset, tc.type};
            mtl_buffer xb = upload(*g.ctx, x), yb = upload(*g.ctx, std::vector<float>(expect.size(), 0.0f));
            mtl_buffer acc = upload(*g.ctx, y0);
            run_ops(g, [&](mtl_ops& ops) {
              ops.matmul(wa, uint32_t(n_in), uint32_t(n_out), xb, uint32_t(n_in), yb, uint32_t(n_out), uint32_t(n_tok),
                         wa.buffer, gpu::no_bias, false);
              ops.matmul(wa, uint32_t(n_in), uint32_t(n_out), xb, uint32_t(n_in), acc, uint32_t(n_out),
                         uint32_t(n_tok), bb.buffer, bb.offset, true);
            });
            CHECK(normalized_error(download<float>(yb, expect.size()), expect) < 1e-5);
            std::vector<float> expect_acc(expect.size());
            for (std::size_t i = 0; i < expect.size(); ++i) {
              expect_acc[i] = y0[i] + expect[i] + bias[i % static_cast<std::size_t>(n_out)];
            }
            CHECK(normalized_error(download<float>(acc, expect.size()), expect_acc) < 1e-5);
          }
        }
      }
    }
  }

  TEST_CASE("embed dequantizes the token rows for every weight type") {
    LANEWAY_METAL_OR_SKIP(g);
    for (const type_widths& tc : every_type) {
      const int64_t n_embd = tc.n_in.front(), n_vocab = 5;
      const std::string type_name = cpu::traits(tc.type).name;
      CAPTURE(type_name);
      const auto w = quantized_matrix(tc.type, n_vocab, n_embd, 11);
      const std::vector<uint32_t> tokens = {3, 0, 4, 3};
      std::vector<float> expect(tokens.size() * static_cast<std::size_t>(n_embd));
      const std::size_t rb = cpu::row_bytes(tc.type, n_embd);
      for (std::size_t t = 0; t < tokens.size(); ++t) {
        cpu::dequantize_row(tc.type, w.data() + rb * tokens[t], expect.data() + t * static_cast<std::size_t>(n_embd),
                            n_embd);
      }
      mtl_weights weights(*g.ctx, {});
      weights.add(w.data(), w.size());
      weights.upload();
      const weight_binding wb = weights.bind(w.data());
      mtl_buffer io = upload(*g.ctx, std::vector<uint32_t>{7, 7, 3, 0, 4, 3});  // tokens at word 2
      mtl_buffer x = upload(*g.ctx, std::vector<float>(expect.size(), -1.0f));
      run_ops(g, [&](mtl_ops& ops) {
        ops.embed({wb.buffer, wb.offset, tc.type}, uint32_t(n_embd), io, 2, uint32_t(tokens.size()), x);
      });
      CHECK(normalized_error(download<float>(x, expect.size()), expect) < 1e-6);
    }
  }

  TEST_CASE("rmsnorm matches the reference, out of place and in place") {
    LANEWAY_METAL_OR_SKIP(g);
    for (const int64_t n : {int64_t{8}, int64_t{70}, int64_t{1024}}) {
      const int64_t rows = 5;
      CAPTURE(n);
      const auto x = random_vector(static_cast<std::size_t>(rows * n), 3, 2.0f);
      const auto gain = random_vector(static_cast<std::size_t>(n), 4);
      std::vector<float> expect(x.size());
      cpu::ref::rmsnorm(x.data(), gain.data(), rows, n, 1e-6f, expect.data());
      mtl_weights w(*g.ctx, {});
      w.add(gain.data(), gain.size() * sizeof(float));
      w.upload();
      const weight_binding gb = w.bind(gain.data());
      mtl_buffer xb = upload(*g.ctx, x), yb = upload(*g.ctx, std::vector<float>(x.size()));
      mtl_buffer inplace = upload(*g.ctx, x);
      run_ops(g, [&](mtl_ops& ops) {
        ops.rmsnorm(gb.buffer, gb.offset, xb, yb, uint32_t(rows), uint32_t(n), 1e-6f);
        ops.rmsnorm(gb.buffer, gb.offset, inplace, inplace, uint32_t(rows), uint32_t(n), 1e-6f);
      });
      CHECK(normalized_error(download<float>(yb, x.size()), expect) < 1e-6);
      CHECK(normalized_error(download<float>(inplace, x.size()), expect) < 1e-6);
    }
  }

  TEST_CASE("rope matches the reference in both modes") {
    LANEWAY_METAL_OR_SKIP(g);
    const std::vector<int32_t> pos = {0, 5, 17, 300};
    for (const auto mode : {cpu::rope_mode::normal, cpu::rope_mode::neox}) {
      const int64_t d = 64, heads = 3, n = static_cast<int64_t>(pos.size()), half = d / 2;
      CAPTURE(mode == cpu::rope_mode::neox);
      const auto x = random_vector(static_cast<std::size_t>(n * heads * d), 8);
      auto expect = x;
      cpu::ref::rope(expect.data(), n, heads, d, pos.data(), 10000.0f, mode);
      cpu::rope_table table;
      table.build(pos.data(), n, d, 10000.0f);
      std::vector<uint32_t> io(static_cast<std::size_t>(2 * n * half));
      std::memcpy(io.data(), table.cos_.data(), table.cos_.size() * sizeof(float));
      std::memcpy(io.data() + n * half, table.sin_.data(), table.sin_.size() * sizeof(float));
      mtl_buffer xb = upload(*g.ctx, x), iob = upload(*g.ctx, io);
      run_ops(g, [&](mtl_ops& ops) {
        ops.rope(xb, iob, 0, uint32_t(n * half), uint32_t(n), uint32_t(heads), uint32_t(d),
                 mode == cpu::rope_mode::neox);
      });
      CHECK(normalized_error(download<float>(xb, x.size()), expect) < 1e-5);
    }
  }

  TEST_CASE("silu_mul and gather_rows match the reference") {
    LANEWAY_METAL_OR_SKIP(g);
    const std::size_t n = 1000;
    const auto a = random_vector(n, 1, 3.0f), b = random_vector(n, 2);
    std::vector<float> expect(n);
    cpu::ref::silu_mul(a.data(), b.data(), expect.data(), static_cast<int64_t>(n));
    const uint32_t width = 70;  // gather rows 3, 0, 3 of a [5, 70] matrix
    const auto src = random_vector(5 * width, 9);
    mtl_buffer ab = upload(*g.ctx, a), bb = upload(*g.ctx, b);
    mtl_buffer sb = upload(*g.ctx, src), db = upload(*g.ctx, std::vector<float>(3 * width));
    mtl_buffer io = upload(*g.ctx, std::vector<uint32_t>{3, 0, 3});
    run_ops(g, [&](mtl_ops& ops) {
      ops.silu_mul(ab, bb, uint32_t(n));
      ops.gather_rows(sb, db, io, 0, 3, width);
    });
    CHECK(normalized_error(download<float>(ab, n), expect) < 1e-6);
    const auto got = download<float>(db, 3 * width);
    for (uint32_t i = 0; i < width; ++i) {
      CHECK(got[i] == src[3 * width + i]);
      CHECK(got[width + i] == src[i]);
      CHECK(got[2 * width + i] == src[3 * width + i]);
    }
  }
}
