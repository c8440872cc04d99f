// Causal attention of every batch token over its own sequence's keys/values in the KV cache.
// One task per (token, kv head): the group of query heads sharing that kv head reads each K and
// V row once. Rows are walked in the cache's contiguous runs (one run for a contiguous cache,
// one per block for a paged one). Scores use the SIMD f32 dot product; f16 rows are widened
// into a small per-thread buffer first.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/engine/forward.hpp"

namespace laneway::engine {
namespace {

// Per-thread scratch: scores [group, n_seen] and one widened row [head_dim].
struct attend_scratch {
  std::vector<float> score;
  std::vector<float> row;
};

const float* head_row(const std::byte* row, int64_t offset, int64_t d, cpu::dtype type, std::vector<float>& buf) {
  if (type == cpu::dtype::f32) return reinterpret_cast<const float*>(row) + offset;
  const auto* h = reinterpret_cast<const uint16_t*>(row) + offset;
  for (int64_t i = 0; i < d; ++i) buf[static_cast<std::size_t>(i)] = cpu::fp16_to_fp32(h[i]);
  return buf.data();
}

}  // namespace

void cpu_forward::attend(int64_t layer, const batch& b) {
  const auto& hp = model_.hparams();
  const kv_layout& kl = cache_.layout();
  const int64_t d = hp.head_dim, n_head = hp.n_head, n_kv = hp.n_head_kv, group = n_head / n_kv;
  const std::size_t row_bytes = kl.row_bytes();
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));

  pool_.parallel_for(b.size() * n_kv, [&](int64_t task) {
    const int64_t t = task / n_kv, hk = task % n_kv;
    const int32_t seq = b.seq_ids[t];
    const int32_t n_seen = b.positions[t] + 1;
    thread_local attend_scratch s;
    if (s.score.size() < static_cast<std::size_t>(group * n_seen)) s.score.resize(static_cast<std::size_t>(group * n_seen));
    if (s.row.size() < static_cast<std::size_t>(d)) s.row.resize(static_cast<std::size_t>(d));
    const float* qt = q_.data() + (t * n_head + hk * group) * d;  // qt: [group, head_dim]
    float* ot = attn_.data() + (t * n_head + hk * group) * d;     // ot: [group, head_dim]

    // scores[g][p] = scale * q_g . k_p
    for (int32_t p = 0; p < n_seen;) {
      const int32_t run = cache_.contiguous_run(seq, p, n_seen - p);
      const std::byte* base = cache_.k_row(layer, seq, p);
      for (int32_t i = 0; i < run; ++i) {
        const float* kp = head_row(base + i * row_bytes, hk * d, d, kl.type, s.row);  // kp: [head_dim]
        for (int64_t g = 0; g < group; ++g) s.score[g * n_seen + p + i] = scale * cpu::dot_f32(qt + g * d, kp, d);
      }
      p += run;
    }
    for (int64_t g = 0; g < group; ++g) cpu::softmax(s.score.data() + g * n_seen, n_seen);

    // out_g = sum_p score[g][p] * v_p
    std::fill(ot, ot + group * d, 0.0f);
    for (int32_t p = 0; p < n_seen;) {
      const int32_t run = cache_.contiguous_run(seq, p, n_seen - p);
      const std::byte* base = cache_.v_row(layer, seq, p);
      for (int32_t i = 0; i < run; ++i) {
        const float* vp = head_row(base + i * row_bytes, hk * d, d, kl.type, s.row);  // vp: [head_dim]
        for (int64_t g = 0; g < group; ++g) {
          const float w = s.score[g * n_seen + p + i];
          float* o = ot + g * d;
          for (int64_t j = 0; j < d; ++j) o[j] += w * vp[j];
        }
      }
      p += run;
    }
  });
}

}  // namespace laneway::engine
