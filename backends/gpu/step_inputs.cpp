// step_inputs::build (see step_inputs.hpp).
#include "backends/gpu/step_inputs.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "backends/engine/forward.hpp"
#include "backends/engine/kv_cache.hpp"
#include "backends/engine/model.hpp"

namespace laneway::gpu {
namespace {
uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }
}  // namespace

void step_inputs::build(const engine::model_hparams& hp, const engine::kv_cache& cache, const engine::batch& b) {
  const int64_t n = b.size(), half = hp.head_dim / 2;
  rope.build(b.positions.data(), n, hp.head_dim, hp.rope_freq_base);
  tok_off = 0;
  rows_off = u32(n);
  seen_off = u32(2 * n);
  tab_off = u32(3 * n);
  out_off = u32(4 * n);
  cos_off = out_off + u32(b.n_logits());
  sin_off = cos_off + u32(n * half);
  const uint32_t tables = sin_off + u32(n * half);

  std::unordered_map<int32_t, int32_t> seq_len;  // positions each sequence's table covers
  for (int64_t t = 0; t < n; ++t) {
    int32_t& len = seq_len[b.seq_ids[t]];
    len = std::max(len, b.positions[t] + 1);
  }
  words.assign(tables, 0);
  std::unordered_map<int32_t, uint32_t> seq_table;
  for (int64_t t = 0; t < n; ++t) {
    const int32_t seq = b.seq_ids[t];
    auto [it, fresh] = seq_table.try_emplace(seq, static_cast<uint32_t>(words.size()));
    if (fresh) {
      for (int32_t p = 0; p < seq_len[seq]; ++p) words.push_back(static_cast<uint32_t>(cache.row_index(seq, p)));
    }
    words[tok_off + t] = static_cast<uint32_t>(b.tokens[t]);
    words[rows_off + t] = static_cast<uint32_t>(cache.row_index(seq, b.positions[t]));
    words[seen_off + t] = static_cast<uint32_t>(b.positions[t] + 1);
    words[tab_off + t] = it->second;
  }
  uint32_t r = 0;
  for (int64_t t = 0; t < n; ++t) {
    if (b.want_logits[t]) words[out_off + r++] = static_cast<uint32_t>(t);
  }
  std::memcpy(words.data() + cos_off, rope.cos_.data(), static_cast<std::size_t>(n * half) * sizeof(float));
  std::memcpy(words.data() + sin_off, rope.sin_.data(), static_cast<std::size_t>(n * half) * sizeof(float));
}

}  // namespace laneway::gpu
