// The time-to-first-token estimate the kv_aware policy minimises, kept apart so the gateway can
// log it and tests can check it by hand:
//
//   ttft(node) = queue_wait + uncached / prefill_rate
//   uncached   = max(0, prompt_tokens − matched_tokens)
//   queue_wait = pending_prefill_tokens / prefill_rate               (prompts ahead of ours)
//              + slot_wait                                          (no free sequence slot)
//   slot_wait  = excess × mean_output_tokens / decode_rate,   excess = effective_load + 1 − max_seqs, if > 0
//                (max_seqs slots share decode_rate, so some slot frees every mean_output / decode_rate
//                 seconds; `excess` requests are ahead of ours for one)
//
// prefill_rate: the largest of the model's default (the prior), the candidate's estimate and the
//   node's reported rate. Reports are throughput (≈ 0 idle, a few hundred tokens/s under light
//   load), a lower bound on what the node can do: every node is rated at the prior until its
//   throughput proves it faster, so a busy node is not rated slower than an idle, never-measured
//   one and its cached prefix keeps its value. Set the prior (`default_prefill_tokens_per_s`) to
//   what the nodes really prefill (e.g. bench_worker's number).
// decode_rate: the node's reported aggregate rate, else the default. No max_seqs known: no slot wait.
#pragma once

#include "routing/policy.hpp"

namespace laneway::routing {

struct ttft_estimate {
  double queue_wait_s = 0;        // waiting behind other prompts and for a sequence slot
  double prefill_s = 0;           // computing this prompt's uncached tokens
  std::int64_t uncached_tokens = 0;
  double total_s() const { return queue_wait_s + prefill_s; }
};

ttft_estimate estimate_ttft(const candidate& c, const route_request& request, const ttft_model& model);

}  // namespace laneway::routing
