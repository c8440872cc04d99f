// The event loop of the benchmark (arrivals, node steps, /load polls, in time order) and the
// gateway's side of it: candidates from the index and the reports, the policy's decision,
// in-flight and pending-prefill bookkeeping, and the statistics.
#include "routing/sim/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <queue>

#include "routing/prefix_index.hpp"

namespace laneway::routing::sim {

namespace {

enum class event_kind { arrival, step_end, poll };

struct event {
  double at;
  std::uint64_t order;  // FIFO among equal times, so runs are deterministic
  event_kind kind;
  std::size_t index;    // request for arrivals, node for step ends
  bool operator>(const event& o) const { return at != o.at ? at > o.at : order > o.order; }
};

std::chrono::steady_clock::time_point clock_at(double s) {
  return std::chrono::steady_clock::time_point{} +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
}

double percentile(std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const std::size_t rank = std::size_t(std::ceil(q * double(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

// What the gateway keeps per node.
struct node_view {
  int in_flight = 0;
  std::int64_t pending_prefill = 0;
  node_load report;
  rate_estimate prefill_rate;
  std::uint64_t events_seq = 0;
};

}  // namespace

sim_result run_simulation(const sim_config& config, const policy_config& policy_cfg,
                          const std::vector<sim_request>& workload) {
  auto policy = make_policy(policy_cfg);
  sim_result result;
  result.policy = policy ? std::string(policy->name()) : policy_cfg.name;
  if (!policy || config.nodes == 0) return result;

  const std::size_t b = config.node.block_size;
  std::vector<std::vector<block_hash>> hashes;  // per request: prompt + answer full blocks
  hashes.reserve(workload.size());
  for (const auto& r : workload) {
    std::vector<std::int32_t> all = r.prompt;
    all.insert(all.end(), r.answer.begin(), r.answer.end());
    hashes.push_back(token_block_hashes(all, b, 0x5eed));
  }

  std::vector<sim_node> nodes(config.nodes, sim_node(config.node));
  std::vector<node_view> views(config.nodes);
  std::vector<std::string> names;
  for (std::size_t n = 0; n < config.nodes; ++n) names.push_back("node" + std::to_string(n));
  precise_index precise;
  approximate_index approximate;
  for (node_id n = 0; n < config.nodes; ++n) {
    precise.apply_snapshot(n, 0, nodes[n].cache().snapshot());
    approximate.set_capacity(n, config.node.kv_blocks);
  }

  std::priority_queue<event, std::vector<event>, std::greater<>> queue;
  std::uint64_t order = 0;
  for (std::size_t i = 0; i < workload.size(); ++i)
    queue.push({workload[i].arrival_s, order++, event_kind::arrival, i});
  queue.push({0, order++, event_kind::poll, 0});

  std::vector<bool> stepping(config.nodes, false);
  std::vector<std::int64_t> estimate(workload.size(), 0);  // the gateway's pending-prefill estimate per request
  std::vector<double> ttft;
  ttft.reserve(workload.size());
  std::int64_t prompt_total = 0, oracle_total = 0;
  std::size_t finished = 0;
  std::vector<step_event> step_events;
  std::vector<block_hash> stored, removed;
  std::vector<candidate> candidates(config.nodes);

  auto prompt_blocks_of = [&](std::size_t i) {
    const std::size_t limit = (workload[i].prompt.size() - 1) / b;  // a node never serves the last token from cache
    return std::span<const block_hash>(hashes[i].data(), std::min(limit, hashes[i].size()));
  };
  auto start_step = [&](std::size_t n, double now) {
    stepping[n] = true;
    queue.push({now + nodes[n].begin_step(now), order++, event_kind::step_end, n});
  };

  while (!queue.empty()) {
    const event e = queue.top();
    queue.pop();
    if (e.kind == event_kind::poll) {
      for (std::size_t n = 0; n < config.nodes; ++n) {
        views[n].report = nodes[n].report(e.at);
        views[n].prefill_rate.on_report(views[n].report.prefill_tokens_per_s.value_or(0), clock_at(e.at));
      }
      if (finished < workload.size()) queue.push({e.at + config.poll_interval_s, order++, event_kind::poll, 0});
      continue;
    }
    if (e.kind == event_kind::arrival) {
      const sim_request& r = workload[e.index];
      const auto prompt_len = std::int64_t(r.prompt.size());
      const auto prompt_blocks = prompt_blocks_of(e.index);
      const std::size_t limit = prompt_blocks.size();
      std::size_t oracle = 0;
      for (std::size_t n = 0; n < config.nodes; ++n) {
        candidate& c = candidates[n];
        c = {};
        c.node_index = n;
        c.name = names[n];
        c.in_flight = views[n].in_flight;
        c.load = views[n].report;
        c.prefill_tokens_per_s = views[n].prefill_rate.tokens_per_s(clock_at(e.at));
        c.pending_prefill_tokens = views[n].pending_prefill;
        c.matched_blocks = config.approximate ? approximate.leading_blocks(node_id(n), prompt_blocks)
                                              : precise.leading_blocks(node_id(n), prompt_blocks);
        c.matched_tokens = std::int64_t(c.matched_blocks * b);
        oracle = std::max(oracle, nodes[n].cache().leading(prompt_blocks, limit));
      }
      route_request request{.model = "sim", .prompt_tokens = prompt_len, .prompt_blocks = prompt_blocks.size(),
                            .session = r.user};
      const route_decision d = policy->pick(candidates, request);
      const std::size_t n = d.index.value_or(0);
      ++result.reasons[std::string(to_string(d.reason))];
      prompt_total += prompt_len;
      oracle_total += std::int64_t(oracle * b);
      estimate[e.index] = prompt_len - candidates[n].matched_tokens;
      views[n].in_flight += 1;
      views[n].pending_prefill += estimate[e.index];
      if (config.approximate) approximate.record(node_id(n), prompt_blocks);
      else precise.add_in_flight(node_id(n), prompt_blocks);
      nodes[n].enqueue(e.index, r, hashes[e.index]);
      if (!stepping[n]) start_step(n, e.at);
      continue;
    }
    // A step ended on node e.index.
    const std::size_t n = e.index;
    step_events.clear();
    nodes[n].end_step(e.at, step_events);
    for (const auto& s : step_events) {
      if (s.first_token) {
        ttft.push_back(e.at - workload[s.request].arrival_s);
        views[n].pending_prefill -= estimate[s.request];
        if (!config.approximate) precise.remove_in_flight(node_id(n), prompt_blocks_of(s.request));
      } else {
        views[n].in_flight -= 1;
        ++finished;
        result.duration_s = e.at;
      }
    }
    nodes[n].cache().take_events(stored, removed);
    if (!stored.empty() || !removed.empty()) {
      ++views[n].events_seq;
      if (precise.apply_batch(node_id(n), views[n].events_seq, stored, removed) != batch_result::applied)
        precise.apply_snapshot(node_id(n), views[n].events_seq, nodes[n].cache().snapshot());
    }
    stepping[n] = false;
    if (!nodes[n].idle()) start_step(n, e.at);
  }

  std::int64_t admitted_prompt = 0, cached = 0;
  for (const auto& node : nodes) {
    admitted_prompt += node.prompt_tokens();
    cached += node.cached_tokens();
  }
  result.requests = ttft.size();
  result.hit_rate = admitted_prompt > 0 ? double(cached) / double(admitted_prompt) : 0;
  result.oracle_hit_rate = prompt_total > 0 ? double(oracle_total) / double(prompt_total) : 0;
  std::sort(ttft.begin(), ttft.end());
  result.ttft_p50 = percentile(ttft, 0.50);
  result.ttft_p95 = percentile(ttft, 0.95);
  result.ttft_p99 = percentile(ttft, 0.99);
  double sum = 0;
  for (double t : ttft) sum += t;
  result.ttft_mean = ttft.empty() ? 0 : sum / double(ttft.size());
  return result;
}

}  // namespace laneway::routing::sim
