// Causal attention of every batch token over its own sequence's keys/values in the KV cache,
// computed the way the peer (llama.cpp's CPU flash attention, its default) computes it, so that
// greedy outputs match it (docs/forward-pass.md "Correctness"). Per query head, over positions
// p = 0 .. pos in order:
//   s_p = scale * q . k_p         for an f16 cache q is rounded to f16 first (K's dot type) and
//                                 the products summed in the peer's order (dot_f16_rows)
//   running max m, sum S:  if s_p > m: r = exp(m - s_p), m = s_p, w = 1   (acc *= r, S *= r)
//                          else:       r = 1,                 w = exp(s_p - m)
//   acc += w * v_p;  S += w       acc is an f16 accumulator for an f16 cache (rounded after
//                                 every step), f32 for an f32 cache
//   out = acc * (1 / S)
// One task per (token, kv head): the group of query heads sharing that kv head reads each K and
// V row once. Rows are walked in the cache's contiguous runs (one run for a contiguous cache,
// one per block for a paged one). The two inner loops (scores q.k and the V sum) are a kernel
// set: the plain loops below, or forward_attention_avx2.cpp when the active CPU ISA is AVX2 or
// AVX-512 (LANEWAY_CPU_ISA=scalar selects the plain loops); the running max is a scalar pass
// between them.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/cpu/matmul.hpp"
#include "backends/engine/forward.hpp"
#include "backends/engine/forward_attention.hpp"

namespace laneway::engine {
namespace {

// Per-thread scratch: scores then weights [group, n_seen], rescale factors [group, n_seen],
// softmax sums [group], the f16-rounded queries [group, head_dim], one widened row [head_dim].
struct attend_scratch {
  std::vector<float> score;
  std::vector<float> rescale;
  std::vector<float> sum;
  std::vector<float> q;
  std::vector<float> row;
};

float round_f16(float v) { return cpu::fp16_to_fp32(cpu::fp32_to_fp16(v)); }

// Row i of the run as f32: a pointer into the cache, or f16 widened into buf ([d]).
const float* head_row(const detail::kv_run& r, int32_t i, int64_t d, float* buf) {
  const std::byte* row = r.base + static_cast<std::size_t>(i) * r.row_bytes;
  if (r.type == cpu::dtype::f32) return reinterpret_cast<const float*>(row) + r.offset;
  const auto* h = reinterpret_cast<const uint16_t*>(row) + r.offset;
  for (int64_t j = 0; j < d; ++j) buf[j] = cpu::fp16_to_fp32(h[j]);
  return buf;
}

// f16 q . f16 k as the peer's ggml_vec_dot_f16 (AVX2 build) sums it: the first d & ~31 values
// in 4 accumulators of 8 lanes (lane l of accumulator a takes values 32s + 8a + l), reduced as
// lane = (a0 + a2) + (a1 + a3), then t[m] = lane[m] + lane[m + 4], then (t0 + t1) + (t2 + t3);
// the rest added in double. Every product of two f16 values is exact in float, so this gives the
// same bits as the peer's FMA lanes (and is the whole head in double when head_dim < 32).
float dot_f16_rows(const float* q, const float* k, int64_t d) {
  const int64_t d32 = d & ~int64_t{31};
  float lanes[4][8] = {};
  for (int64_t s = 0; s < d32; s += 32) {
    for (int a = 0; a < 4; ++a) {
      for (int l = 0; l < 8; ++l) lanes[a][l] += q[s + 8 * a + l] * k[s + 8 * a + l];
    }
  }
  float lane[8], t[4];
  for (int l = 0; l < 8; ++l) lane[l] = (lanes[0][l] + lanes[2][l]) + (lanes[1][l] + lanes[3][l]);
  for (int m = 0; m < 4; ++m) t[m] = lane[m] + lane[m + 4];
  double sum = (t[0] + t[1]) + (t[2] + t[3]);
  for (int64_t j = d32; j < d; ++j) sum += static_cast<double>(q[j] * k[j]);
  return static_cast<float>(sum);
}

void score_plain(const float* q, int64_t group, int64_t d, const detail::kv_run& k, float scale,
                 float* score, int64_t ld, float* tmp) {
  const bool f16 = k.type == cpu::dtype::f16;
  for (int32_t i = 0; i < k.n; ++i) {
    const float* kp = head_row(k, i, d, tmp);  // kp: [head_dim]
    for (int64_t g = 0; g < group; ++g) {
      const float* qg = q + g * d;
      score[g * ld + i] = scale * (f16 ? dot_f16_rows(qg, kp, d) : cpu::dot_f32(qg, kp, d));
    }
  }
}

void accumulate_plain(const float* w, const float* rescale, int64_t ld, int64_t group, int64_t d,
                      const detail::kv_run& v, float* acc, float* tmp) {
  const bool f16 = v.type == cpu::dtype::f16;
  for (int32_t i = 0; i < v.n; ++i) {
    const float* vp = head_row(v, i, d, tmp);  // vp: [head_dim]
    for (int64_t g = 0; g < group; ++g) {
      const float wi = w[g * ld + i], ri = rescale[g * ld + i];
      float* a = acc + g * d;  // a: [head_dim]
      if (ri != 1.0f) {
        for (int64_t j = 0; j < d; ++j) a[j] = f16 ? round_f16(a[j] * ri) : a[j] * ri;
      }
      for (int64_t j = 0; j < d; ++j) a[j] = f16 ? round_f16(a[j] + wi * vp[j]) : a[j] + wi * vp[j];
    }
  }
}

constexpr detail::attend_kernels plain_kernels{score_plain, accumulate_plain};

const detail::attend_kernels& active_attend_kernels() {
  const detail::attend_kernels* avx2 = detail::avx2_attend_kernels();
  // active_isa() is what LANEWAY_CPU_ISA / force_isa asked for, and only ever a set the CPU has
  // (an AVX-512 CPU here also has AVX2).
  const cpu::isa active = cpu::active_isa();
  if (avx2 && (active == cpu::isa::avx2 || active == cpu::isa::avx512)) return *avx2;
  return plain_kernels;
}

// The running-max pass over one query head's scores x[0, n) (in position order): turns them into
// the V weights w (in place) and the rescale factors r, and returns the softmax sum S.
float online_weights(float* x, float* r, int32_t n) {
  float m = -INFINITY, sum = 0.0f;
  for (int32_t i = 0; i < n; ++i) {
    const float s = x[i];
    float ms = 1.0f, vs = 1.0f;
    if (s > m) {
      ms = std::exp(m - s);  // 0 for the first position
      m = s;
    } else {
      vs = std::exp(s - m);
    }
    x[i] = vs;
    r[i] = ms;
    sum = sum * ms + vs;
  }
  return sum;
}

}  // namespace

const detail::attend_kernels& detail::plain_attend_kernels() { return plain_kernels; }

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
    const auto n_scores = static_cast<std::size_t>(group * n_seen);
    thread_local attend_scratch s;
    if (s.score.size() < n_scores) s.score.resize(n_scores);
    if (s.rescale.size() < n_scores) s.rescale.resize(n_scores);
    if (s.sum.size() < static_cast<std::size_t>(group)) s.sum.resize(static_cast<std::size_t>(group));
    if (s.q.size() < static_cast<std::size_t>(group * d)) s.q.resize(static_cast<std::size_t>(group * d));
    if (s.row.size() < static_cast<std::size_t>(d)) s.row.resize(static_cast<std::size_t>(d));
    const float* qt = q_.data() + (t * n_head + hk * group) * d;  // qt: [group, head_dim]
    float* ot = attn_.data() + (t * n_head + hk * group) * d;     // ot: [group, head_dim]
    if (kl.type == cpu::dtype::f16) {  // the peer dots f16 K rows with an f16 copy of q
      for (int64_t j = 0; j < group * d; ++j) s.q[static_cast<std::size_t>(j)] = round_f16(qt[j]);
      qt = s.q.data();
    }

    // scores[g][p] = scale * q_g . k_p
    for (int32_t p = 0; p < n_seen;) {
      const int32_t run = cache_.contiguous_run(seq, p, n_seen - p);
      const detail::kv_run k{cache_.k_row(layer, seq, p), row_bytes, hk * d, run, kl.type};
      kern.score(qt, group, d, k, scale, s.score.data() + p, n_seen, s.row.data());
      p += run;
    }
    for (int64_t g = 0; g < group; ++g) {
      float* wg = s.score.data() + g * n_seen;  // wg, rg: [n_seen]
      float* rg = s.rescale.data() + g * n_seen;
      s.sum[static_cast<std::size_t>(g)] = online_weights(wg, rg, n_seen);
    }

    // acc_g = sum_p w[g][p] * v_p with the rescales, then out_g = acc_g / S_g
    std::fill(ot, ot + group * d, 0.0f);
    for (int32_t p = 0; p < n_seen;) {
      const int32_t run = cache_.contiguous_run(seq, p, n_seen - p);
      const detail::kv_run v{cache_.v_row(layer, seq, p), row_bytes, hk * d, run, kl.type};
      kern.accumulate(s.score.data() + p, s.rescale.data() + p, n_seen, group, d, v, ot, s.row.data());
      p += run;
    }
    for (int64_t g = 0; g < group; ++g) {
      const float sum = s.sum[static_cast<std::size_t>(g)];
      const float inv = sum == 0.0f ? 0.0f : 1.0f / sum;
      for (int64_t j = 0; j < d; ++j) ot[g * d + j] *= inv;
    }
  });
}

}  // namespace laneway::engine
