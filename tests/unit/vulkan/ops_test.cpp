// The element-wise and row kernels against the CPU reference: rmsnorm (also in place, as the
// per-head q/k norm runs), rope (normal and NEOX) from the host's angle table, silu-gate and
// the logit-row gather.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "backends/cpu/ops.hpp"
#include "backends/cpu/reference.hpp"
#include "backends/vulkan/vk_weights.hpp"
#include "tests/unit/cpu/test_util.hpp"
#include "tests/unit/vulkan/vk_test_util.hpp"

using namespace laneway;
using namespace laneway::vulkan;
using namespace laneway::vulkan::test;

TEST_SUITE("vulkan") {
  TEST_CASE("rmsnorm matches the reference, out of place and in place") {
    LANEWAY_VULKAN_OR_SKIP(g);
    for (const int64_t n : {int64_t{8}, int64_t{70}, int64_t{1024}}) {
      for (const int64_t rows : {int64_t{1}, int64_t{5}}) {
        CAPTURE(n);
        CAPTURE(rows);
        const auto x = cpu::test::random_vector(static_cast<std::size_t>(rows * n), 3, 2.0f);
        const auto gain = cpu::test::random_vector(static_cast<std::size_t>(n), 4);
        std::vector<float> expect(x.size());
        cpu::ref::rmsnorm(x.data(), gain.data(), rows, n, 1e-6f, expect.data());
        vk_weights w(*g.ctx);
        const weight_ref gr = w.add(gain.data(), gain.size() * sizeof(float));
        w.upload();
        vk_buffer xb = upload(*g.ctx, x), yb = upload(*g.ctx, std::vector<float>(x.size()));
        vk_buffer inplace = upload(*g.ctx, x);
        run_ops(g, [&](vk_ops& ops) {
          ops.rmsnorm(w.chunk(gr.chunk), gr.offset, xb, yb, uint32_t(rows), uint32_t(n), 1e-6f);
          ops.rmsnorm(w.chunk(gr.chunk), gr.offset, inplace, inplace, uint32_t(rows), uint32_t(n), 1e-6f);
        });
        CHECK(cpu::test::normalized_error(download<float>(*g.ctx, yb, x.size()), expect) < 1e-6);
        CHECK(cpu::test::normalized_error(download<float>(*g.ctx, inplace, x.size()), expect) < 1e-6);
      }
    }
  }

  TEST_CASE("rope matches the reference in both modes") {
    LANEWAY_VULKAN_OR_SKIP(g);
    const std::vector<int32_t> pos = {0, 5, 17, 300};
    for (const auto mode : {cpu::rope_mode::normal, cpu::rope_mode::neox}) {
      for (const int64_t d : {int64_t{8}, int64_t{64}}) {
        const int64_t heads = 3, n = static_cast<int64_t>(pos.size()), half = d / 2;
        CAPTURE(d);
        CAPTURE(mode == cpu::rope_mode::neox);
        const auto x = cpu::test::random_vector(static_cast<std::size_t>(n * heads * d), 8);
        auto expect = x;
        cpu::ref::rope(expect.data(), n, heads, d, pos.data(), 10000.0f, mode);
        cpu::rope_table table;
        table.build(pos.data(), n, d, 10000.0f);
        std::vector<uint32_t> io(static_cast<std::size_t>(2 * n * half));
        std::memcpy(io.data(), table.cos_.data(), table.cos_.size() * sizeof(float));
        std::memcpy(io.data() + n * half, table.sin_.data(), table.sin_.size() * sizeof(float));
        vk_buffer xb = upload(*g.ctx, x), iob = upload(*g.ctx, io, vk_buffer::kind::host);
        run_ops(g, [&](vk_ops& ops) {
          ops.rope(xb, iob, 0, uint32_t(n * half), uint32_t(n), uint32_t(heads), uint32_t(d),
                   mode == cpu::rope_mode::neox);
        });
        CHECK(cpu::test::normalized_error(download<float>(*g.ctx, xb, x.size()), expect) < 1e-5);
      }
    }
  }

  TEST_CASE("silu_mul and gather_rows match the reference") {
    LANEWAY_VULKAN_OR_SKIP(g);
    const std::size_t n = 1000;
    const auto a = cpu::test::random_vector(n, 1, 3.0f), b = cpu::test::random_vector(n, 2);
    std::vector<float> expect(n);
    cpu::ref::silu_mul(a.data(), b.data(), expect.data(), static_cast<int64_t>(n));
    vk_buffer ab = upload(*g.ctx, a), bb = upload(*g.ctx, b);

    const uint32_t width = 70;  // gather rows 3, 0, 3 of a [5, 70] matrix
    const auto src = cpu::test::random_vector(5 * width, 9);
    vk_buffer sb = upload(*g.ctx, src), db = upload(*g.ctx, std::vector<float>(3 * width));
    vk_buffer io = upload(*g.ctx, std::vector<uint32_t>{3, 0, 3}, vk_buffer::kind::host);
    run_ops(g, [&](vk_ops& ops) {
      ops.silu_mul(ab, bb, uint32_t(n));
      ops.gather_rows(sb, db, io, 0, 3, width);
    });
    CHECK(cpu::test::normalized_error(download<float>(*g.ctx, ab, n), expect) < 1e-6);
    const auto got = download<float>(*g.ctx, db, 3 * width);
    for (uint32_t i = 0; i < width; ++i) {
      CHECK(got[i] == src[3 * width + i]);
      CHECK(got[width + i] == src[i]);
      CHECK(got[2 * width + i] == src[3 * width + i]);
    }
  }
}
