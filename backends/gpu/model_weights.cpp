// for_each_weight (see model_weights.hpp).
#include "backends/gpu/model_weights.hpp"

#include "backends/cpu/quant_types.hpp"
#include "backends/engine/model.hpp"

namespace laneway::gpu {

void for_each_weight(const engine::model& m, const std::function<void(const void* data, std::size_t bytes)>& add) {
  const auto& hp = m.hparams();
  const auto vec = [&](const float* p, int64_t n) {
    if (p) add(p, static_cast<std::size_t>(n) * sizeof(float));
  };
  const auto mat = [&](const cpu::weight_view& w) {
    add(w.data, static_cast<std::size_t>(w.n_out) * cpu::row_bytes(w.type, w.n_in));
  };
  mat(m.token_embd());
  for (const engine::layer_weights& lw : m.layers()) {
    vec(lw.attn_norm, hp.n_embd);
    for (const cpu::weight_view* w : {&lw.wq, &lw.wk, &lw.wv, &lw.wo, &lw.w_gate, &lw.w_up, &lw.w_down}) mat(*w);
    vec(lw.bq, hp.q_dim());
    vec(lw.bk, hp.kv_dim());
    vec(lw.bv, hp.kv_dim());
    vec(lw.q_norm, hp.head_dim);
    vec(lw.k_norm, hp.head_dim);
    vec(lw.ffn_norm, hp.n_embd);
  }
  vec(m.output_norm(), hp.n_embd);
  mat(m.output());
}

}  // namespace laneway::gpu
