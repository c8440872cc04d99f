// Shared routing state around routing/'s policies and prefix indexes (see router.hpp).
#include "gateway/router.hpp"

#include <algorithm>
#include <stdexcept>

namespace laneway::gateway {

using clock = std::chrono::steady_clock;

routing::node_load to_node_load(const node_report& r) {
  routing::node_load l;
  if (r.running >= 0) l.running = r.running;
  if (r.waiting >= 0) l.waiting = r.waiting;
  if (r.max_seqs > 0) l.max_seqs = r.max_seqs;
  if (r.kv_blocks_total >= 0) l.kv_blocks_total = r.kv_blocks_total;
  if (r.kv_blocks_free >= 0) l.kv_blocks_free = r.kv_blocks_free;
  if (r.block_size > 0) l.block_size = static_cast<int>(r.block_size);
  if (r.prefill_tokens_per_s > 0) l.prefill_tokens_per_s = r.prefill_tokens_per_s;
  if (r.decode_tokens_per_s > 0) l.decode_tokens_per_s = r.decode_tokens_per_s;
  return l;
}

routing::policy_config to_policy_config(const routing_config& r) {
  routing::policy_config c;
  c.name = r.policy;
  c.sticky_sessions = r.sticky_sessions;
  c.ttft.default_prefill_tokens_per_s = r.default_prefill_tokens_per_s;
  c.ttft.mean_output_tokens = r.mean_output_tokens;
  c.move_factor = r.move_factor;
  return c;
}

router::router(const routing_config& config)
    : policy_(routing::make_policy(to_policy_config(config))), approximate_(config.index_memory_bytes) {
  if (!policy_) throw std::invalid_argument("unknown routing policy " + config.policy);
}

routing::node_id router::id_of(const std::string& node_name) {
  std::lock_guard lock(mutex_);
  auto [it, fresh] = ids_.try_emplace(node_name, static_cast<routing::node_id>(ids_.size()));
  return it->second;
}

void router::configure(const routing_config& config) {
  auto p = routing::make_policy(to_policy_config(config));
  if (!p) throw std::invalid_argument("unknown routing policy " + config.policy);
  std::lock_guard lock(mutex_);
  policy_ = std::move(p);
}

std::string router::policy_name() const {
  std::lock_guard lock(mutex_);
  return std::string(policy_->name());
}

router::node_extra& router::extra_locked(routing::node_id node) { return extra_[node]; }

void router::kv_snapshot(routing::node_id node, std::uint64_t seq, std::span<const std::uint64_t> hashes) {
  std::lock_guard lock(mutex_);
  precise_.apply_snapshot(node, seq, hashes);
}

routing::batch_result router::kv_batch(routing::node_id node, std::uint64_t seq, std::span<const std::uint64_t> stored,
                                       std::span<const std::uint64_t> removed) {
  std::lock_guard lock(mutex_);
  return precise_.apply_batch(node, seq, stored, removed);
}

void router::drop(routing::node_id node) {
  std::lock_guard lock(mutex_);
  precise_.drop_node(node);
  approximate_.drop_node(node);
}

std::size_t router::indexed_blocks(routing::node_id node) const {
  std::lock_guard lock(mutex_);
  return precise_.blocks(node) + approximate_.blocks(node);
}

bool router::kv_synced(routing::node_id node) const {
  std::lock_guard lock(mutex_);
  return precise_.synced(node);
}

void router::on_report(routing::node_id node, const node_report& report) {
  std::lock_guard lock(mutex_);
  auto& e = extra_locked(node);
  e.prefill.on_report(report.prefill_tokens_per_s, report.at);
  e.kv.capacity_tokens = std::max<std::int64_t>(0, report.kv_capacity_tokens());
  if (report.kv_blocks_total > 0) approximate_.set_capacity(node, static_cast<std::size_t>(report.kv_blocks_total));
}

routing::route_decision router::decide(std::vector<routing::candidate>& candidates, std::span<const routing::node_id> ids,
                                       std::span<const candidate_prompt> prompts, const routing::route_request& request) {
  const auto now = clock::now();
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    auto& c = candidates[i];
    auto& e = extra_locked(ids[i]);
    c.prefill_tokens_per_s = e.prefill.tokens_per_s(now);
    c.pending_prefill_tokens = e.pending_prefill_tokens;
    c.kv = e.kv;
    const auto& p = prompts[i];
    if (p.hashes && !p.hashes->empty()) {
      c.matched_blocks = p.precise ? precise_.leading_blocks(ids[i], *p.hashes) : approximate_.leading_blocks(ids[i], *p.hashes);
      c.matched_tokens = static_cast<std::int64_t>(c.matched_blocks) * p.tokens_per_block;
    }
  }
  return policy_->pick(candidates, request);
}

void router::on_sent(routing::node_id node, const candidate_prompt& prompt, std::int64_t uncached_tokens,
                     std::int64_t budget_tokens) {
  std::lock_guard lock(mutex_);
  auto& e = extra_locked(node);
  e.pending_prefill_tokens += std::max<std::int64_t>(0, uncached_tokens);
  if (budget_tokens > 0) e.kv.reserved_tokens += budget_tokens;
  if (prompt.hashes && !prompt.hashes->empty()) {
    // Precise nodes: the prompt's blocks count as held while it is in prefill (they are stored in
    // a moment), so a burst for a new prefix follows its first request (prefix_index.hpp).
    if (prompt.precise) precise_.add_in_flight(node, *prompt.hashes);
    else approximate_.record(node, *prompt.hashes);
  }
}

void router::on_first_byte(routing::node_id node, std::int64_t uncached_tokens) {
  std::lock_guard lock(mutex_);
  auto& e = extra_locked(node);
  e.pending_prefill_tokens = std::max<std::int64_t>(0, e.pending_prefill_tokens - std::max<std::int64_t>(0, uncached_tokens));
}

void router::on_done(routing::node_id node, const candidate_prompt& prompt, std::int64_t budget_tokens) {
  std::lock_guard lock(mutex_);
  if (prompt.precise && prompt.hashes && !prompt.hashes->empty()) precise_.remove_in_flight(node, *prompt.hashes);
  auto& e = extra_locked(node);
  if (budget_tokens > 0) e.kv.reserved_tokens = std::max<std::int64_t>(0, e.kv.reserved_tokens - budget_tokens);
}

}  // namespace laneway::gateway
