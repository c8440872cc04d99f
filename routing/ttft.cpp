// The TTFT estimate (formula in ttft.hpp): queue wait behind other prompts and for a free
// sequence slot, plus this prompt's uncached tokens at the node's prefill rate.
#include "routing/ttft.hpp"

#include <algorithm>

namespace laneway::routing {

namespace {

// Observed prompt throughput is a lower bound on what a node can prefill (an idle or lightly
// loaded node reports little), so the model's prior stands until a node's throughput beats it.
double prefill_rate(const candidate& c, const ttft_model& model) {
  double rate = model.default_prefill_tokens_per_s;
  if (c.prefill_tokens_per_s > rate) rate = c.prefill_tokens_per_s;
  if (c.load.prefill_tokens_per_s && *c.load.prefill_tokens_per_s > rate) rate = *c.load.prefill_tokens_per_s;
  return rate;
}

double decode_rate(const candidate& c, const ttft_model& model) {
  if (c.load.decode_tokens_per_s && *c.load.decode_tokens_per_s > 0) return *c.load.decode_tokens_per_s;
  return model.default_decode_tokens_per_s;
}

}  // namespace

ttft_estimate estimate_ttft(const candidate& c, const route_request& request, const ttft_model& model) {
  ttft_estimate e;
  const double rate = prefill_rate(c, model);
  e.uncached_tokens = std::max<std::int64_t>(0, request.prompt_tokens - c.matched_tokens);
  e.prefill_s = double(e.uncached_tokens) / rate;
  e.queue_wait_s = double(std::max<std::int64_t>(0, c.pending_prefill_tokens)) / rate;
  if (c.load.max_seqs && *c.load.max_seqs > 0) {
    const int excess = effective_load(c) + 1 - *c.load.max_seqs;
    if (excess > 0) e.queue_wait_s += double(excess) * model.mean_output_tokens / decode_rate(c, model);
  }
  return e;
}

}  // namespace laneway::routing
