// The per-step input words of the GPU forward pass, shared by the Vulkan and Metal hosts: the
// host resolves a batch into one small buffer (token ids, page tables, RoPE angles, logit rows)
// that the kernels read by word offset, so both hosts hand their devices the same bytes.
//   words: tokens [n] | pool rows of the new K/V [n] | positions seen [n] | start of each token's
//   page table [n] | rows wanting logits [n_out] | cos [n, half] | sin [n, half] | page tables:
//   per sequence in the batch, the pool row of positions 0 .. its last in the batch.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/cpu/ops.hpp"

namespace laneway::engine {
struct batch;
struct model_hparams;
class kv_cache;
}  // namespace laneway::engine

namespace laneway::gpu {

struct step_inputs {
  std::vector<uint32_t> words;
  // Word offsets of each part in `words`.
  uint32_t tok_off = 0, rows_off = 0, seen_off = 0, tab_off = 0, out_off = 0, cos_off = 0, sin_off = 0;
  cpu::rope_table rope;  // kept to reuse its storage

  // Rebuilds words and offsets for b (validated and reserved in cache already).
  void build(const engine::model_hparams& hp, const engine::kv_cache& cache, const engine::batch& b);
};

}  // namespace laneway::gpu
