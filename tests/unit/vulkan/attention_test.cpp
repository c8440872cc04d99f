// kv_store + attention over a paged pool against the CPU reference attention: several
// sequences of different lengths in one batch (a prefill chunk, decode tokens, a one-token
// prompt), rows scattered over the pool through page tables, grouped-query heads, f32 and f16
// pools (the f16 reference sees the same rounded K/V and queries, but accumulates in f32).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "backends/cpu/reference.hpp"
#include "tests/unit/cpu/test_util.hpp"
#include "tests/unit/vulkan/vk_test_util.hpp"

using namespace laneway;
using namespace laneway::vulkan;
using namespace laneway::vulkan::test;

namespace {
float round_f16(float v) { return cpu::fp16_to_fp32(cpu::fp32_to_fp16(v)); }
}  // namespace

TEST_SUITE("vulkan") {
  TEST_CASE("attention over a paged pool matches the reference for a mixed batch") {
    LANEWAY_VULKAN_OR_SKIP(g);
    for (const bool f16 : {false, true}) {
      for (const int64_t d : {int64_t{16}, int64_t{128}}) {
        CAPTURE(f16);
        CAPTURE(d);
        const int64_t n_head = 4, n_kv = 2, rv = n_kv * d;
        const std::vector<int32_t> seq_len = {1, 70, 9};  // positions each sequence holds after the step
        // The batch: seq 0's whole one-token prompt, seq 1's positions 60..69 (a chunk), seq 2's
        // decode token at 8. Earlier positions are written by a first kv_store of "old" rows.
        struct tok { int32_t seq, pos; };
        std::vector<tok> batch = {{0, 0}, {2, 8}};
        for (int32_t p = 60; p < 70; ++p) batch.push_back({1, p});
        const int64_t n = static_cast<int64_t>(batch.size());

        // Page tables: each (seq, pos) gets a distinct pool row, in shuffled order.
        const int32_t total = std::accumulate(seq_len.begin(), seq_len.end(), 0);
        std::vector<uint32_t> perm(static_cast<std::size_t>(total + 5));
        std::iota(perm.begin(), perm.end(), 0u);
        std::shuffle(perm.begin(), perm.end(), std::mt19937(42));
        std::vector<std::vector<uint32_t>> table(seq_len.size());
        std::size_t next = 0;
        for (std::size_t s = 0; s < seq_len.size(); ++s) {
          for (int32_t p = 0; p < seq_len[s]; ++p) table[s].push_back(perm[next++]);
        }
        // K/V of every (seq, pos): kv[s]: [seq_len, rv]
        std::vector<std::vector<float>> kk(seq_len.size()), vv(seq_len.size());
        for (std::size_t s = 0; s < seq_len.size(); ++s) {
          kk[s] = cpu::test::random_vector(static_cast<std::size_t>(seq_len[s] * rv), 100 + uint32_t(s));
          vv[s] = cpu::test::random_vector(static_cast<std::size_t>(seq_len[s] * rv), 200 + uint32_t(s));
        }
        const auto q = cpu::test::random_vector(static_cast<std::size_t>(n * n_head * d), 300);

        // io: old rows [n_old] | new rows [n] | seen [n] | tab [n] | tables
        std::vector<float> k_old, v_old, k_new, v_new;
        std::vector<uint32_t> old_rows, io;
        for (std::size_t s = 0; s < seq_len.size(); ++s) {
          for (int32_t p = 0; p < seq_len[s]; ++p) {
            const bool in_batch = std::any_of(batch.begin(), batch.end(), [&](const tok& t) {
              return t.seq == int32_t(s) && t.pos == p;
            });
            if (in_batch) continue;
            old_rows.push_back(table[s][p]);
            k_old.insert(k_old.end(), kk[s].begin() + p * rv, kk[s].begin() + (p + 1) * rv);
            v_old.insert(v_old.end(), vv[s].begin() + p * rv, vv[s].begin() + (p + 1) * rv);
          }
        }
        const uint32_t n_old = uint32_t(old_rows.size());
        io = old_rows;
        const uint32_t rows_off = uint32_t(io.size());
        for (const tok& t : batch) io.push_back(table[t.seq][t.pos]);
        const uint32_t seen_off = uint32_t(io.size());
        for (const tok& t : batch) io.push_back(uint32_t(t.pos + 1));
        const uint32_t tab_off = uint32_t(io.size());
        io.resize(io.size() + batch.size());
        std::vector<uint32_t> start(seq_len.size());
        for (std::size_t s = 0; s < seq_len.size(); ++s) {
          start[s] = uint32_t(io.size());
          io.insert(io.end(), table[s].begin(), table[s].end());
        }
        for (std::size_t t = 0; t < batch.size(); ++t) io[tab_off + t] = start[batch[t].seq];
        for (const tok& t : batch) {
          k_new.insert(k_new.end(), kk[t.seq].begin() + t.pos * rv, kk[t.seq].begin() + (t.pos + 1) * rv);
          v_new.insert(v_new.end(), vv[t.seq].begin() + t.pos * rv, vv[t.seq].begin() + (t.pos + 1) * rv);
        }

        const std::size_t pool_bytes = perm.size() * static_cast<std::size_t>(rv) * (f16 ? 2 : 4);
        vk_buffer kp(*g.ctx, pool_bytes, vk_buffer::kind::device), vp(*g.ctx, pool_bytes, vk_buffer::kind::device);
        vk_buffer iob = upload(*g.ctx, io, vk_buffer::kind::host);
        vk_buffer ko = upload(*g.ctx, k_old), vo = upload(*g.ctx, v_old);
        vk_buffer kn = upload(*g.ctx, k_new), vn = upload(*g.ctx, v_new), qb = upload(*g.ctx, q);
        vk_buffer out = upload(*g.ctx, std::vector<float>(q.size()));
        const float scale = 1.0f / std::sqrt(float(d));
        run_ops(g, [&](vk_ops& ops) {
          ops.kv_store(ko, vo, kp, vp, iob, 0, n_old, uint32_t(rv), f16);
          ops.kv_store(kn, vn, kp, vp, iob, rows_off, uint32_t(n), uint32_t(rv), f16);
          ops.barrier();
          ops.attention(qb, kp, vp, iob, seen_off, tab_off, out, uint32_t(n), uint32_t(n_head), uint32_t(n_kv),
                        uint32_t(d), f16, scale);
        });
        const auto got = download<float>(*g.ctx, out, q.size());

        // Reference: per token, its sequence's contiguous K/V (rounded for f16).
        std::vector<float> expect(q.size());
        for (std::size_t t = 0; t < batch.size(); ++t) {
          const auto& bt = batch[t];
          auto k = kk[bt.seq], v = vv[bt.seq];
          std::vector<float> qt(q.begin() + long(t * n_head * d), q.begin() + long((t + 1) * n_head * d));
          if (f16) {
            for (float& x : k) x = round_f16(x);
            for (float& x : v) x = round_f16(x);
            for (float& x : qt) x = round_f16(x);
          }
          const cpu::attention_shape shape{1, n_head, n_kv, d, seq_len[bt.seq]};
          const int32_t qpos = bt.pos;
          cpu::ref::attention(shape, qt.data(), k.data(), v.data(), &qpos, scale, expect.data() + t * n_head * d);
        }
        // f16 pools also accumulate in f16 (rounded every position, as the peer), which the
        // f32-accumulating reference does not.
        CHECK(cpu::test::normalized_error(got, expect) < (f16 ? 3e-3 : 1e-5));
      }
    }
  }
}
