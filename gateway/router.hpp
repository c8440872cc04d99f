// The gateway's routing state, shared by every I/O thread behind one mutex: the precise prefix
// index (laneway nodes' KV events), the approximate one (blocks of prompts sent to other
// nodes), per-node prefill-rate estimates, prefill tokens sent but not yet answered, KV
// reservations (the lanes' KV contract), and the configured policy (routing/, pure and not
// thread-safe). Node ids are stable across config reloads (kept by node name).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "gateway/config.hpp"
#include "gateway/node_report.hpp"
#include "routing/node_state.hpp"
#include "routing/policy.hpp"
#include "routing/prefix_index.hpp"

namespace laneway::gateway {

// One candidate's view of the request's prompt: the block hashes its index is keyed by.
struct candidate_prompt {
  const std::vector<std::uint64_t>* hashes = nullptr;  // nullptr: no prompt blocks for this node
  bool precise = false;                                // look up the KV-event index, else the approximate one
  std::int64_t tokens_per_block = 16;                  // matched_tokens = matched_blocks × this
};

routing::node_load to_node_load(const node_report& r);
routing::policy_config to_policy_config(const routing_config& r);

class router {
 public:
  explicit router(const routing_config& config);

  routing::node_id id_of(const std::string& node_name);
  // Reload: a new policy (a fresh session table) and index bound.
  void configure(const routing_config& config);
  std::string policy_name() const;

  // Precise index, from a node's KV event stream.
  void kv_snapshot(routing::node_id node, std::uint64_t seq, std::span<const std::uint64_t> hashes);
  routing::batch_result kv_batch(routing::node_id node, std::uint64_t seq, std::span<const std::uint64_t> stored,
                                 std::span<const std::uint64_t> removed);
  // Forgets what a node holds: its stream ended, it was ejected, or it left the config.
  void drop(routing::node_id node);
  std::size_t indexed_blocks(routing::node_id node) const;  // precise + approximate
  bool kv_synced(routing::node_id node) const;

  // A load report arrived: updates the node's prefill-rate estimate and KV capacity.
  void on_report(routing::node_id node, const node_report& report);

  // Fills each candidate's rate, pending prefill, KV reservation and prefix match, then asks
  // the policy. `ids[i]` and `prompts[i]` belong to `candidates[i]`.
  routing::route_decision decide(std::vector<routing::candidate>& candidates, std::span<const routing::node_id> ids,
                                 std::span<const candidate_prompt> prompts, const routing::route_request& request);
  // The request went to `node`: its uncached tokens are pending there, its lane's budget is
  // reserved, and its blocks count as held there: recorded in the approximate index, or (precise
  // nodes) in flight in the precise one until on_done. Not at the response head: a laneway worker
  // sends a stream's head (and its role chunk) before the prefill, so the head says nothing about
  // the blocks; and a running sequence keeps its prompt blocks referenced until it ends, so
  // counting them held until then is exact (the KV events take over afterwards).
  void on_sent(routing::node_id node, const candidate_prompt& prompt, std::int64_t uncached_tokens,
               std::int64_t budget_tokens);
  // Once per on_sent, with the same arguments: the node answered (response head) or the attempt
  // failed before it — its prefill is no longer pending; then the attempt ended (answered or
  // failed) — its KV reservation and in-flight blocks are released.
  void on_first_byte(routing::node_id node, std::int64_t uncached_tokens);
  void on_done(routing::node_id node, const candidate_prompt& prompt, std::int64_t budget_tokens);

 private:
  struct node_extra {
    routing::rate_estimate prefill;
    std::int64_t pending_prefill_tokens = 0;
    routing::kv_reservation kv;
  };
  node_extra& extra_locked(routing::node_id node);

  mutable std::mutex mutex_;
  std::unique_ptr<routing::policy> policy_;
  routing::precise_index precise_;
  routing::approximate_index approximate_;
  std::unordered_map<std::string, routing::node_id> ids_;
  std::unordered_map<routing::node_id, node_extra> extra_;
};

}  // namespace laneway::gateway
