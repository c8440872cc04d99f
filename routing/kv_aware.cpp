// kv_aware: send each request where its first token is expected soonest, counting both the
// prefix the node already holds in its KV cache and the work queued there.
//
// For each request (its prompt length and block-hash list come from the gateway; each
// candidate's matched prefix from the prefix index, precise or approximate):
//
//  1. Filter. Only eligible candidates: routable (healthy, circuit not open), serving the model,
//     and within their KV contract (reserved budgets + this lane's budget <= KV capacity). If any
//     has a closed circuit, half-open ones are left out: make_policy already sent a half-open
//     node its one trial request, so one that reaches here has its trial under way and gets
//     traffic only as a last resort. Nothing eligible: no decision (the gateway queues or 503s).
//  2. Imbalance guard (SGLang's cache_aware rule): if the effective loads differ badly —
//     max − min > imbalance_abs (32) and max > imbalance_rel (1.1) × min — affinity is piling
//     load on some nodes: send to the least loaded, reason `imbalance_fallback`.
//  3. Estimate each candidate's time to first token (routing/ttft.hpp):
//        ttft = pending_prefill / rate + slot_wait + max(0, prompt − matched) / rate
//     The queue term makes a busy node with the prefix lose against an idle one once the
//     queued prefill there costs more than recomputing the prefix elsewhere; the slot term
//     keeps requests off nodes whose sequence slots are all taken.
//  4. Stickiness (optional): a request carrying a session key goes back to the node that served
//     that session, unless its estimate is worse than sticky_slack (2) × the best one; then it
//     moves and the session follows. Reason `sticky`. The table is an LRU of max_sessions.
//  5. Stay with the prefix. The greedy estimate sees only this request: moving it off the nodes
//     that hold its prefix looks cheap whenever their queue is longer than the prefix, but the
//     move recomputes the prefix elsewhere (work that delays the requests queued there) and
//     stores a second copy of it (cache space that evicts other prefixes), and the next request
//     of that prefix faces the same choice. Under load this runs away: hits fall, queues grow,
//     more moves look cheap. So when the longest match covers more than prefix_min_ratio (0.5)
//     of the prompt's blocks, the "home" nodes — those holding that longest match — keep the
//     request unless the best of them is estimated more than move_factor (2) × slower than the
//     best other node (hysteresis, as a cache-affinity router's balance threshold, but on
//     estimated TTFT rather than request counts). A hot prefix still spreads once its home is
//     really overloaded (the case pure affinity gets wrong). In `laneway sim` this turned
//     kv_aware from worse than prefix_only at 6 req/s (p95 2.4–126 s vs 0.9–1.8 s) to better
//     (0.86–1.35 s); docs/routing.md has the table.
//  6. Best wins among the nodes left (home or all). Estimates within tie_tolerance (5 %) of the
//     best tie; ties go to the least effective load, then rotate. Reason `prefix` when the
//     chosen node holds part of the prompt, else `least_loaded`.
//
// The decision carries the chosen node's matched blocks/tokens and the estimate, so the gateway
// logs them and compares them with the worker's usage.prompt_tokens_details.cached_tokens.
#include <algorithm>
#include <list>
#include <string>
#include <unordered_map>

#include "routing/policies.hpp"
#include "routing/ttft.hpp"

namespace laneway::routing::detail {

namespace {

// session key -> node name, least recently used evicted beyond `capacity`.
class session_table {
 public:
  explicit session_table(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

  const std::string* find(std::string_view session) {
    auto it = where_.find(std::string(session));
    if (it == where_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }

  void set(std::string_view session, std::string_view node) {
    std::string key(session);
    if (auto it = where_.find(key); it != where_.end()) {
      it->second->second = std::string(node);
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    order_.emplace_front(key, std::string(node));
    where_.emplace(std::move(key), order_.begin());
    if (order_.size() > capacity_) {
      where_.erase(order_.back().first);
      order_.pop_back();
    }
  }

 private:
  std::size_t capacity_;
  std::list<std::pair<std::string, std::string>> order_;  // front = most recent
  std::unordered_map<std::string, std::list<std::pair<std::string, std::string>>::iterator> where_;
};

class kv_aware final : public policy {
 public:
  explicit kv_aware(const policy_config& config) : config_(config), sessions_(config.max_sessions) {}

  std::string_view name() const override { return "kv_aware"; }

  route_decision pick(std::span<const candidate> candidates, const route_request& request) override {
    auto positions = eligible_positions(candidates, request);
    if (positions.empty()) return {};
    route_decision d = choose(candidates, positions, request);
    if (config_.sticky_sessions && !request.session.empty())
      sessions_.set(request.session, candidates[*d.index].name);
    return d;
  }

 private:
  route_decision choose(std::span<const candidate> candidates, std::span<const std::size_t> positions,
                        const route_request& request) {
    if (badly_imbalanced(candidates, positions, config_.imbalance_abs, config_.imbalance_rel)) {
      std::size_t at = least_loaded_of(candidates, positions, turn_++);
      return decide(candidates, at, route_reason::imbalance_fallback, ttft(candidates[at], request));
    }

    std::vector<double> estimate(candidates.size(), 0);
    double best = -1;
    for (auto i : positions) {
      estimate[i] = ttft(candidates[i], request);
      if (best < 0 || estimate[i] < best) best = estimate[i];
    }

    if (config_.sticky_sessions && !request.session.empty()) {
      if (const std::string* node = sessions_.find(request.session)) {
        for (auto i : positions)
          if (candidates[i].name == *node && estimate[i] <= config_.sticky_slack * best)
            return decide(candidates, i, route_reason::sticky, estimate[i]);
      }
    }

    std::vector<std::size_t> pool = home_nodes(candidates, positions, request, estimate);
    if (pool.empty()) pool.assign(positions.begin(), positions.end());
    else best = min_of(estimate, pool);

    // Ties: within tie_tolerance of the best (and 1 ms, so idle nodes with no work tie exactly).
    const double bound = best * (1 + config_.tie_tolerance) + 1e-3;
    std::vector<std::size_t> tied;
    for (auto i : pool)
      if (estimate[i] <= bound) tied.push_back(i);
    std::size_t at = least_loaded_of(candidates, tied, turn_++);
    auto reason = candidates[at].matched_tokens > 0 ? route_reason::prefix : route_reason::least_loaded;
    return decide(candidates, at, reason, estimate[at]);
  }

  static double min_of(const std::vector<double>& estimate, std::span<const std::size_t> at) {
    double m = estimate[at.front()];
    for (auto i : at) m = std::min(m, estimate[i]);
    return m;
  }

  // Step 5: the nodes holding the request's longest prefix, if the request should stay there;
  // empty when no match covers more than prefix_min_ratio of the prompt's blocks, or when the
  // best of those nodes is estimated more than move_factor × slower than the best other one.
  std::vector<std::size_t> home_nodes(std::span<const candidate> candidates, std::span<const std::size_t> positions,
                                      const route_request& request, const std::vector<double>& estimate) const {
    std::size_t longest = 0;
    for (auto i : positions) longest = std::max(longest, candidates[i].matched_blocks);
    if (request.prompt_blocks == 0 || double(longest) <= config_.prefix_min_ratio * double(request.prompt_blocks))
      return {};
    std::vector<std::size_t> home, away;
    for (auto i : positions) (candidates[i].matched_blocks == longest ? home : away).push_back(i);
    if (!away.empty() && min_of(estimate, home) > config_.move_factor * min_of(estimate, away)) return {};
    return home;
  }

  double ttft(const candidate& c, const route_request& request) const {
    return estimate_ttft(c, request, config_.ttft).total_s();
  }

  policy_config config_;
  session_table sessions_;
  std::size_t turn_ = 0;
};

}  // namespace

std::unique_ptr<policy> make_kv_aware(const policy_config& config) { return std::make_unique<kv_aware>(config); }

}  // namespace laneway::routing::detail
