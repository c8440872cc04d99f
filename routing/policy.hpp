// Routing policies: given the nodes that may take a request, pick one and say why. Policies are
// small types behind one interface, created by name from config; name() is the `policy` label on
// routing metrics. The KV-aware policy (kv_aware.cpp) explains its algorithm at its top; the
// TTFT estimate it minimises is in routing/ttft.hpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "routing/health.hpp"
#include "routing/node_state.hpp"

namespace laneway::routing {

// One node as a policy sees it for one request. The gateway builds these per request; fields it
// cannot fill keep their defaults, which every policy reads as "no information".
struct candidate {
  std::size_t node_index = 0;     // the caller's index; decisions refer to positions in the span
  std::string_view name;          // node name (stable across reloads; the stickiness key's value)
  int in_flight = 0;              // requests the gateway has open on this node
  bool routable = true;           // healthy by probes and circuit not open (node_health::routable)
  bool serves_model = true;       // the node serves the request's model
  circuit_state circuit = circuit_state::closed;  // half_open: gets one trial request (make_policy)
  node_load load;                 // the node's last load report (fields unknown for foreign kinds)
  double prefill_tokens_per_s = 0;  // observed prefill throughput (rate_estimate); the estimate uses max(prior, this)
  std::int64_t pending_prefill_tokens = 0;  // uncached prompt tokens sent there, no first token yet
  kv_reservation kv;              // KV contract state of this node (capacity, reserved)
  std::size_t matched_blocks = 0;   // leading blocks of the request's prompt the node holds (prefix index)
  std::int64_t matched_tokens = 0;  // the same in prompt tokens (matched_blocks × tokens per block)
};

struct route_request {
  std::string_view model;
  std::int64_t prompt_tokens = 0;   // prompt length in tokens (estimated: bytes / 4 when no tokenizer)
  std::size_t prompt_blocks = 0;    // length of the request's block-hash list (for match ratios)
  std::int64_t context_budget_tokens = 0;  // the lane's declared context per request (KV contract); 0 = none
  std::string_view session;         // stickiness key (the `user` field or a header); empty = none
};

// Why a node was chosen: the `reason` label on routing metrics and a field of the access log.
enum class route_reason {
  none,                // nothing eligible (every candidate unhealthy, without the model or at its KV contract)
  prefix,              // best estimated TTFT, helped by a cached prefix
  least_loaded,        // least load (no prefix to exploit, or the least-loaded policies)
  imbalance_fallback,  // loads badly imbalanced: least loaded regardless of prefixes
  sticky,              // the session's node from an earlier request
  round_robin,         // next in turn
  circuit_trial,       // the one trial request of a half-open node (any policy; see make_policy)
};
std::string_view to_string(route_reason reason);

struct route_decision {
  std::optional<std::size_t> index;   // position in `candidates`; nullopt when reason == none
  route_reason reason = route_reason::none;
  std::size_t matched_blocks = 0;     // the chosen node's matched_blocks (predicted cached prefix)
  std::int64_t matched_tokens = 0;    // the chosen node's matched_tokens (vs the worker's cached_tokens)
  double predicted_ttft_s = -1;       // the policy's TTFT estimate for the chosen node; < 0 = not estimated
};

// Per-request load used to compare nodes: the larger of the gateway's in-flight count and what
// the node reports running + waiting (the node also serves other clients; the gateway's count is
// fresher). Known-less nodes fall back to in-flight alone.
int effective_load(const candidate& c);
// May take this request at all: routable, serves the model, within its KV contract.
bool eligible(const candidate& c, const route_request& request);

// Defaults and knobs of the TTFT estimate (see ttft.hpp for the formula).
struct ttft_model {
  double default_prefill_tokens_per_s = 2000;  // prior prefill rate of every node: used until a node's
                                               // observed throughput exceeds it (ttft.hpp)
  double default_decode_tokens_per_s = 200;    // aggregate decode rate, same fallback
  double mean_output_tokens = 256;             // length of a typical answer: how long a busy slot stays busy
};

// Configuration of every policy; each reads what concerns it. From `[routing]` in the config.
struct policy_config {
  std::string name = "least_in_flight";  // which policy; policy_names() lists them
  ttft_model ttft;                       // kv_aware: the TTFT estimate's defaults
  int imbalance_abs = 32;                // kv_aware, prefix_only: least loaded when max − min load > this ...
  double imbalance_rel = 1.1;            // ... and max > this × min (SGLang's cache_aware defaults)
  double tie_tolerance = 0.05;           // kv_aware: estimates within this fraction of the best tie (least loaded wins)
  double prefix_min_ratio = 0.5;         // prefix_only, kv_aware: a match over this share of the blocks is "home"
  double move_factor = 2.0;              // kv_aware: leave home only if its best estimate > this × the best elsewhere
  bool sticky_sessions = false;          // kv_aware: a session keeps its node while that is not much worse
  double sticky_slack = 2.0;             // ... "much worse" = its estimated TTFT > slack × the best one
  std::size_t max_sessions = 65536;      // bound of the session → node table (LRU)
};

class policy {
 public:
  virtual ~policy() = default;
  virtual std::string_view name() const = 0;
  // Chooses among the eligible candidates. Not thread-safe: the gateway serialises calls.
  virtual route_decision pick(std::span<const candidate> candidates, const route_request& request) = 0;
};

// nullptr for an unknown name; policy_names() lists the known ones. make_policy(name) uses the
// default configuration. Every policy it makes honours the circuit breaker (health.hpp): an
// eligible half-open node with nothing in flight gets the request first, as its one trial
// (reason circuit_trial), whatever the policy would prefer; while that trial runs (in_flight > 0)
// the node is left out, and used only when no closed node is eligible.
std::unique_ptr<policy> make_policy(const policy_config& config);
std::unique_ptr<policy> make_policy(std::string_view name);
std::vector<std::string> policy_names();

}  // namespace laneway::routing
