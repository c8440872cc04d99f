// KV math: how much memory a model's KV cache takes per token, per sequence and in all, and
// whether that fits beside the weights in a machine's memory with an OS reserve. The figures the
// worker logs at start-up and `laneway kv` prints for the people who approve hardware.
//
//   bytes/token     = 2 (K and V) * n_layer * n_head_kv * head_dim * bytes per value (f16: 2, f32: 4)
//   blocks/sequence = ceil(ctx / block_size); bytes/sequence = blocks * block_size * bytes/token
//   needed          = weights + seqs * bytes/sequence + compute scratch + runtime (fixed, given)
//   fits            = needed <= memory - reserve;  margin = memory - reserve - needed
#pragma once

#include <cstdint>
#include <string>

#include "backends/cpu/quant_types.hpp"

namespace laneway::engine {

class model;

struct kv_plan_input {
  int64_t ctx = 0;                      // tokens per sequence (prompt + completion)
  int64_t seqs = 1;                     // sequences held at once
  int64_t block_size = 16;
  cpu::dtype kv_type = cpu::dtype::f16;
  uint64_t memory = 0;                  // machine memory; 0: unknown (no fit verdict)
  uint64_t reserve = 0;                 // left to the OS and other programs
  uint64_t runtime = 0;                 // the process beside weights, KV and scratch (code, threads, buffers)
};

struct kv_plan {
  std::string model_name;               // general.name or the file name
  std::string arch;
  int64_t n_layer = 0, n_head_kv = 0, head_dim = 0, n_ctx_train = 0;
  uint64_t weight_bytes = 0;
  uint64_t bytes_per_token = 0;
  uint64_t bytes_per_block = 0;
  int64_t blocks_per_seq = 0;
  uint64_t bytes_per_seq = 0;
  uint64_t kv_bytes = 0;                // seqs * bytes_per_seq
  uint64_t scratch_bytes = 0;           // forward-pass activations (estimate, 256-token steps)
  uint64_t needed = 0;                  // weights + kv + scratch + runtime
  bool has_verdict = false;
  bool fits = false;
  int64_t margin = 0;                   // bytes left (negative: short by)
  int64_t max_seqs_that_fit = 0;        // at this ctx, beside the weights
  kv_plan_input in;
};

uint64_t kv_bytes_per_token(const model& m, cpu::dtype kv_type);
kv_plan plan_kv(const model& m, const kv_plan_input& in);
std::string format_kv_plan_text(const kv_plan& p);
std::string format_kv_plan_json(const kv_plan& p);
// The bytes of machine memory (Linux: /proc/meminfo MemTotal; macOS: hw.memsize); 0 if unknown.
uint64_t machine_memory_bytes();

}  // namespace laneway::engine
