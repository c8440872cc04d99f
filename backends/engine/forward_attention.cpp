// Causal attention of every batch token over its own sequence's keys/values in the KV cache.
// One task per (token, kv head): the group of query heads sharing that kv head reads each K and
// V row once. Rows are walked in the cache's contiguous runs (one run for a contiguous cache,
// one per block for a paged one). The two inner loops (scores q.k and the softmax-weighted V
// sum) are a kernel set: the plain loops below, or forward_attention_avx2.cpp when the active
// CPU ISA is AVX2 (LANEWAY_CPU_ISA=scalar selects the plain loops).
#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/cpu/matmul.hpp"
#include "backends/engine/forward.hpp"
#include "backends/engine/forward_attention.hpp"

namespace laneway::engine {
namespace {

// Per-thread scratch: scores [group, n_seen] and one widened row [head_dim].
struct attend_scratch {
  std::vector<float> score;
  std::vector<float> row;
};

// Row i of the run as f32: a pointer into the cache, or f16 widened into buf ([d]).
const float* head_row(const detail::kv_run& r, int32_t i, int64_t d, float* buf) {
  const std::byte* row = r.base + static_cast<std::size_t>(i) * r.row_bytes;
  if (r.type == cpu::dtype::f32) return reinterpret_cast<const float*>(row) + r.offset;
  const auto* h = reinterpret_cast<const uint16_t*>(row) + r.offset;
  for (int64_t j = 0; j < d; ++j) buf[j] = cpu::fp16_to_fp32(h[j]);
  return buf;
}

void score_plain(const float* q, int64_t group, int64_t d, const detail::kv_run& k, float scale,
                 float* score, int64_t ld, float* tmp) {
  for (int32_t i = 0; i < k.n; ++i) {
    const float* kp = head_row(k, i, d, tmp);  // kp: [head_dim]
    for (int64_t g = 0; g < group; ++g) score[g * ld + i] = scale * cpu::dot_f32(q + g * d, kp, d);
  }
}

void accumulate_plain(const float* w, int64_t ld, int64_t group, int64_t d, const detail::kv_run& v,
                      float* out, float* tmp) {
  for (int32_t i = 0; i < v.n; ++i) {
    const float* vp = head_row(v, i, d, tmp);  // vp: [head_dim]
    for (int64_t g = 0; g < group; ++g) {
      const float wi = w[g * ld + i];
      float* o = out + g * d;
      for (int64_t j = 0; j < d; ++j) o[j] += wi * vp[j];
    }
  }
}

constexpr detail::attend_kernels plain_kernels{score_plain, accumulate_plain};

const detail::attend_kernels& active_attend_kernels() {
  const detail::attend_kernels* avx2 = detail::avx2_attend_kernels();
  // best_isa() checks the CPU; active_isa() is what LANEWAY_CPU_ISA / force_isa asked for.
  if (avx2 && cpu::active_isa() == cpu::isa::avx2 && cpu::best_isa() == cpu::isa::avx2) return *avx2;
  return plain_kernels;
}

}  // namespace

void cpu_forward::attend(int64_t layer, const batch& b) {
  const auto& hp = model_.hparams();
  const kv_layout& kl = cache_.layout();
  const int64_t d = hp.head_dim, n_head = hp.n_head, n_kv = hp.n_head_kv, group = n_head / n_kv;
  const std::size_t row_bytes = kl.row_bytes();
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  const detail::attend_kernels& kern = active_attend_kernels();

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
      const detail::kv_run k{cache_.k_row(layer, seq, p), row_bytes, hk * d, run, kl.type};
      kern.score(qt, group, d, k, scale, s.score.data() + p, n_seen, s.row.data());
      p += run;
    }
    for (int64_t g = 0; g < group; ++g) cpu::softmax(s.score.data() + g * n_seen, n_seen);

    // out_g = sum_p score[g][p] * v_p
    std::fill(ot, ot + group * d, 0.0f);
    for (int32_t p = 0; p < n_seen;) {
      const int32_t run = cache_.contiguous_run(seq, p, n_seen - p);
      const detail::kv_run v{cache_.v_row(layer, seq, p), row_bytes, hk * d, run, kl.type};
      kern.accumulate(s.score.data() + p, n_seen, group, d, v, ot, s.row.data());
      p += run;
    }
  });
}

}  // namespace laneway::engine
