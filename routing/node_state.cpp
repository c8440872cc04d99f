// KV capacity and contract arithmetic, and the decaying peak that turns a node's reported
// throughput into an estimate of what it can do.
#include "routing/node_state.hpp"

#include <cmath>

namespace laneway::routing {

std::optional<std::int64_t> kv_capacity_tokens(const node_load& load) {
  if (!load.kv_blocks_total || !load.block_size || *load.kv_blocks_total <= 0 || *load.block_size <= 0)
    return std::nullopt;
  return *load.kv_blocks_total * *load.block_size;
}

int kv_contract_cap(std::optional<std::int64_t> capacity_tokens, std::int64_t context_budget_tokens) {
  if (!capacity_tokens || *capacity_tokens <= 0 || context_budget_tokens <= 0) return 0;
  return int(std::max<std::int64_t>(1, *capacity_tokens / context_budget_tokens));
}

double rate_estimate::tokens_per_s(clock::time_point now) const {
  if (peak_ <= 0) return 0;
  const double age = std::chrono::duration<double>(now - at_).count();
  if (age <= 0 || half_life_.count() <= 0) return peak_;
  return peak_ * std::exp2(-age / double(half_life_.count()));
}

void rate_estimate::on_report(double tokens_per_s_reported, clock::time_point now) {
  if (!(tokens_per_s_reported > 0)) return;
  if (tokens_per_s_reported >= tokens_per_s(now)) {
    peak_ = tokens_per_s_reported;
    at_ = now;
  }
}

}  // namespace laneway::routing
