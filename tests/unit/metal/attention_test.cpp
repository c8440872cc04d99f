// kv_store + attention over a paged pool through the Metal host against the CPU reference: three
// sequences of different lengths in one batch (a one-token prompt, a decode token, a 10-token
// chunk), pool rows scattered through page tables, grouped-query heads, f32 and f16 pools.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "backends/cpu/reference.hpp"
#include "tests/unit/cpu/test_util.hpp"
#include "tests/unit/metal/mtl_test_util.hpp"

using namespace laneway;
using namespace laneway::metal;
using namespace laneway::metal::test;

TEST_SUITE("metal") {
  TEST_CASE("attention over a paged pool matches the reference for a mixed batch") {
    LANEWAY_METAL_OR_SKIP(g);
    const auto round16 = [](float v) { return cpu::fp16_to_fp32(cpu::fp32_to_fp16(v)); };
    for (const bool f16 : {false, true}) {
      CAPTURE(f16);
      const int64_t d = 128, n_head = 4, n_kv = 2, rv = n_kv * d;
      const std::vector<int32_t> seq_len = {1, 70, 9};  // positions each sequence holds after the step
      struct tok { int32_t seq, pos; };
      std::vector<tok> batch = {{0, 0}, {2, 8}};  // seq 0's prompt, seq 2's decode token
      for (int32_t p = 60; p < 70; ++p) batch.push_back({1, p});  // seq 1's chunk
      const auto n = static_cast<uint32_t>(batch.size());

      // Every (seq, pos) a distinct pool row, shuffled; K/V of every position; the queries.
      std::vector<uint32_t> perm(85);  // 80 positions, 5 rows unused
      std::iota(perm.begin(), perm.end(), 0u);
      std::shuffle(perm.begin(), perm.end(), std::mt19937(42));
      std::vector<std::vector<uint32_t>> table(seq_len.size());
      std::vector<std::vector<float>> kk(seq_len.size()), vv(seq_len.size());
      std::size_t next = 0;
      for (std::size_t s = 0; s < seq_len.size(); ++s) {
        for (int32_t p = 0; p < seq_len[s]; ++p) table[s].push_back(perm[next++]);
        kk[s] = cpu::test::random_vector(static_cast<std::size_t>(seq_len[s] * rv), 100 + uint32_t(s));
        vv[s] = cpu::test::random_vector(static_cast<std::size_t>(seq_len[s] * rv), 200 + uint32_t(s));
      }
      const auto q = cpu::test::random_vector(static_cast<std::size_t>(n * n_head * d), 300);

      // All positions are stored in one kv_store (rows_off 0); then io: seen [n] | tab [n] | tables.
      std::vector<float> k_all, v_all;
      std::vector<uint32_t> io;
      for (std::size_t s = 0; s < seq_len.size(); ++s) {
        io.insert(io.end(), table[s].begin(), table[s].end());
        k_all.insert(k_all.end(), kk[s].begin(), kk[s].end());
        v_all.insert(v_all.end(), vv[s].begin(), vv[s].end());
      }
      const auto n_rows = static_cast<uint32_t>(io.size());
      const uint32_t seen_off = n_rows, tab_off = n_rows + n;
      for (const tok& t : batch) io.push_back(uint32_t(t.pos + 1));
      io.resize(io.size() + n);
      std::vector<uint32_t> start(seq_len.size());
      for (std::size_t s = 0; s < seq_len.size(); ++s) {
        start[s] = uint32_t(io.size());
        io.insert(io.end(), table[s].begin(), table[s].end());
      }
      for (uint32_t t = 0; t < n; ++t) io[tab_off + t] = start[batch[t].seq];

      const std::size_t pool_bytes = perm.size() * static_cast<std::size_t>(rv) * (f16 ? 2 : 4);
      mtl_buffer kp(*g.ctx, pool_bytes), vp(*g.ctx, pool_bytes);
      mtl_buffer iob = upload(*g.ctx, io), kb = upload(*g.ctx, k_all), vb = upload(*g.ctx, v_all);
      mtl_buffer qb = upload(*g.ctx, q), out = upload(*g.ctx, std::vector<float>(q.size()));
      const float scale = 1.0f / std::sqrt(float(d));
      run_ops(g, [&](mtl_ops& ops) {
        ops.kv_store(kb, vb, kp, vp, iob, 0, n_rows, uint32_t(rv), f16);
        ops.barrier();
        ops.attention(qb, kp, vp, iob, seen_off, tab_off, out, n, uint32_t(n_head), uint32_t(n_kv), uint32_t(d), f16,
                      scale);
      });

      // Reference: per token, its sequence's contiguous K/V (rounded to f16 for an f16 pool).
      std::vector<float> expect(q.size());
      for (uint32_t t = 0; t < n; ++t) {
        const tok& bt = batch[t];
        auto k = kk[bt.seq], v = vv[bt.seq];
        std::vector<float> qt(q.begin() + long(t * n_head * d), q.begin() + long((t + 1) * n_head * d));
        if (f16) {
          for (auto* vec : {&k, &v, &qt}) {
            for (float& x : *vec) x = round16(x);
          }
        }
        const cpu::attention_shape shape{1, n_head, n_kv, d, seq_len[bt.seq]};
        cpu::ref::attention(shape, qt.data(), k.data(), v.data(), &bt.pos, scale, expect.data() + t * n_head * d);
      }
      // An f16 pool also accumulates in f16 (as the peer), which the f32 reference does not.
      CHECK(cpu::test::normalized_error(download<float>(out, q.size()), expect) < (f16 ? 3e-3 : 1e-5));
    }
  }
}
