// reference_forward: the test oracle for cpu_forward. One token at a time, in batch order, with
// the plain cpu::ref ops (double accumulation on dequantized weights). K/V go through the same
// kv_cache interface; attention gathers the sequence's rows 0..pos into plain arrays and calls
// cpu::ref::attention. Slow and obviously correct; never used outside tests.
#include <cmath>
#include <cstring>

#include "backends/engine/forward.hpp"

namespace laneway::engine {
namespace {

void to_row(const float* src, std::byte* dst, int64_t n, cpu::dtype type) {
  if (type == cpu::dtype::f32) {
    std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(float));
  } else {
    auto* h = reinterpret_cast<uint16_t*>(dst);
    for (int64_t i = 0; i < n; ++i) h[i] = cpu::fp32_to_fp16(src[i]);
  }
}

void from_row(const std::byte* src, float* dst, int64_t n, cpu::dtype type) {
  if (type == cpu::dtype::f32) {
    std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(float));
  } else {
    const auto* h = reinterpret_cast<const uint16_t*>(src);
    for (int64_t i = 0; i < n; ++i) dst[i] = cpu::fp16_to_fp32(h[i]);
  }
}

}  // namespace

std::vector<float> reference_forward(const model& m, kv_cache& cache, const batch& b) {
  validate_and_reserve(m, cache, b);
  const auto& hp = m.hparams();
  const int64_t e = hp.n_embd, qd = hp.q_dim(), kvd = hp.kv_dim(), d = hp.head_dim;
  const cpu::dtype kv_type = cache.layout().type;
  std::vector<float> logits;
  std::vector<float> x(e), xn(e), q(qd), k(kvd), v(kvd), att(qd), proj(e);  // one token
  std::vector<float> gate(hp.n_ff), up(hp.n_ff), row(hp.n_vocab);
  std::vector<float> keys, values;  // [n_kv, kv_dim] gathered for one sequence

  for (int64_t t = 0; t < b.size(); ++t) {
    const int32_t seq = b.seq_ids[t], pos = b.positions[t];
    m.embed(b.tokens[t], x.data());
    for (int64_t l = 0; l < hp.n_layer; ++l) {
      const layer_weights& lw = m.layers()[static_cast<std::size_t>(l)];
      cpu::ref::rmsnorm(x.data(), lw.attn_norm, 1, e, hp.rms_eps, xn.data());
      cpu::ref::matmul(lw.wq, xn.data(), 1, q.data());
      cpu::ref::matmul(lw.wk, xn.data(), 1, k.data());
      cpu::ref::matmul(lw.wv, xn.data(), 1, v.data());
      if (lw.bq) cpu::ref::add(q.data(), lw.bq, q.data(), qd);
      if (lw.bk) cpu::ref::add(k.data(), lw.bk, k.data(), kvd);
      if (lw.bv) cpu::ref::add(v.data(), lw.bv, v.data(), kvd);
      if (lw.q_norm) cpu::ref::rmsnorm(q.data(), lw.q_norm, hp.n_head, d, hp.rms_eps, q.data());
      if (lw.k_norm) cpu::ref::rmsnorm(k.data(), lw.k_norm, hp.n_head_kv, d, hp.rms_eps, k.data());
      cpu::ref::rope(q.data(), 1, hp.n_head, d, &pos, hp.rope_freq_base, hp.rope);
      cpu::ref::rope(k.data(), 1, hp.n_head_kv, d, &pos, hp.rope_freq_base, hp.rope);
      to_row(k.data(), cache.k_row(l, seq, pos), kvd, kv_type);
      to_row(v.data(), cache.v_row(l, seq, pos), kvd, kv_type);

      const int64_t n_kv = pos + 1;
      keys.resize(static_cast<std::size_t>(n_kv * kvd));
      values.resize(static_cast<std::size_t>(n_kv * kvd));
      for (int32_t p = 0; p < n_kv; ++p) {
        from_row(cache.k_row(l, seq, p), keys.data() + p * kvd, kvd, kv_type);
        from_row(cache.v_row(l, seq, p), values.data() + p * kvd, kvd, kv_type);
      }
      cpu::attention_shape s;
      s.n_tokens = 1;
      s.n_head = hp.n_head;
      s.n_head_kv = hp.n_head_kv;
      s.head_dim = d;
      s.n_kv = n_kv;
      cpu::ref::attention(s, q.data(), keys.data(), values.data(), &pos,
                          static_cast<float>(1.0 / std::sqrt(static_cast<double>(d))), att.data());
      cpu::ref::matmul(lw.wo, att.data(), 1, proj.data());
      cpu::ref::add(x.data(), proj.data(), x.data(), e);

      cpu::ref::rmsnorm(x.data(), lw.ffn_norm, 1, e, hp.rms_eps, xn.data());
      cpu::ref::matmul(lw.w_gate, xn.data(), 1, gate.data());
      cpu::ref::matmul(lw.w_up, xn.data(), 1, up.data());
      cpu::ref::silu_mul(gate.data(), up.data(), gate.data(), hp.n_ff);
      cpu::ref::matmul(lw.w_down, gate.data(), 1, proj.data());
      cpu::ref::add(x.data(), proj.data(), x.data(), e);
    }
    if (!b.want_logits[t]) continue;
    cpu::ref::rmsnorm(x.data(), m.output_norm(), 1, e, hp.rms_eps, xn.data());
    cpu::ref::matmul(m.output(), xn.data(), 1, row.data());
    logits.insert(logits.end(), row.begin(), row.end());
  }
  return logits;
}

}  // namespace laneway::engine
