// What the gateway knows about one node beyond its health (routing/health.hpp): the load the node
// reports (laneway's GET /load, or what a foreign backend's metrics let us scrape — hence every
// field is optional), the gateway's own in-flight count, and the KV contract derived from them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace laneway::routing {

// One load report as the node gave it. Unknown = the node kind does not report that field
// (ollama reports none of them; llama.cpp no KV blocks; laneway all of them).
struct node_load {
  std::optional<int> running;                    // sequences being computed (prefill or decode)
  std::optional<int> waiting;                    // requests queued inside the node, not yet admitted
  std::optional<int> max_seqs;                   // concurrent sequences the node runs at most
  std::optional<std::int64_t> kv_blocks_total;   // KV pool size in blocks
  std::optional<std::int64_t> kv_blocks_free;    // blocks with no reference (includes cached ones)
  std::optional<int> block_size;                 // tokens per KV block (16 by default on laneway)
  std::optional<double> prefill_tokens_per_s;    // observed over the last ~10 s: throughput, not capacity
  std::optional<double> decode_tokens_per_s;     // observed over the last ~10 s, all sequences together
};

// KV capacity in tokens (blocks × block size); nullopt when either is unknown.
std::optional<std::int64_t> kv_capacity_tokens(const node_load& load);

// The KV contract (docs/lanes.md): a lane declares the context a request of it may use
// (`context_budget_tokens`); a node holding `capacity_tokens` takes at most
// capacity / budget such requests at once. At least 1 (a node always takes one request);
// 0 = no cap (capacity or budget unknown / zero).
int kv_contract_cap(std::optional<std::int64_t> capacity_tokens, std::int64_t context_budget_tokens);

// The KV reservation side of the contract, for nodes shared by lanes with different budgets:
// each in-flight request reserves its lane's budget; a node may take a request when nothing is
// reserved yet or reserved + budget <= capacity. Unknown capacity or zero budget: always.
struct kv_reservation {
  std::int64_t capacity_tokens = 0;  // the node's KV capacity in tokens; 0 = unknown (no contract)
  std::int64_t reserved_tokens = 0;  // sum of the budgets of the requests in flight there
  bool admits(std::int64_t budget_tokens) const {
    return capacity_tokens <= 0 || budget_tokens <= 0 || reserved_tokens == 0 ||
           reserved_tokens + budget_tokens <= capacity_tokens;
  }
};

// A node's rates as the policy should use them. The node reports recent throughput, which is ~0
// when it was idle; what a router needs is what the node *can* do, so this keeps the peak of the
// reports, decaying by half every `half_life` so that a node that got slower is believed in the
// end. Pure: the caller passes the report time.
class rate_estimate {
 public:
  using clock = std::chrono::steady_clock;
  explicit rate_estimate(std::chrono::seconds half_life = std::chrono::seconds{300}) : half_life_(half_life) {}

  // Folds in one report's rate (ignored when <= 0: an idle window says nothing about capacity).
  void on_report(double tokens_per_s, clock::time_point now);
  // The current estimate, decayed to `now`; 0 when nothing was ever reported.
  double tokens_per_s(clock::time_point now) const;

 private:
  std::chrono::seconds half_life_;
  double peak_ = 0;               // peak as of `at_`
  clock::time_point at_{};        // when peak_ was last set
};

}  // namespace laneway::routing
