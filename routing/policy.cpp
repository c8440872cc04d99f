// The policy factory and what policies share: reasons' names, effective load, eligibility, the
// imbalance rule and least-loaded choice with rotation among ties.
#include "routing/policy.hpp"

#include <algorithm>
#include <limits>

#include "routing/policies.hpp"

namespace laneway::routing {

std::string_view to_string(route_reason reason) {
  switch (reason) {
    case route_reason::none: return "none";
    case route_reason::prefix: return "prefix";
    case route_reason::least_loaded: return "least_loaded";
    case route_reason::imbalance_fallback: return "imbalance_fallback";
    case route_reason::sticky: return "sticky";
    case route_reason::round_robin: return "round_robin";
    case route_reason::circuit_trial: return "circuit_trial";
  }
  return "none";
}

int effective_load(const candidate& c) {
  int reported = 0;
  if (c.load.running) reported += *c.load.running;
  if (c.load.waiting) reported += *c.load.waiting;
  return std::max(c.in_flight, reported);
}

bool eligible(const candidate& c, const route_request& request) {
  return c.routable && c.serves_model && c.kv.admits(request.context_budget_tokens);
}

namespace detail {

std::vector<std::size_t> eligible_positions(std::span<const candidate> candidates, const route_request& request) {
  std::vector<std::size_t> closed, half_open;  // half-open ones reaching a policy have their trial under way
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (!eligible(candidates[i], request)) continue;
    (candidates[i].circuit == circuit_state::closed ? closed : half_open).push_back(i);
  }
  return closed.empty() ? half_open : closed;
}

bool badly_imbalanced(std::span<const candidate> candidates, std::span<const std::size_t> positions, int abs,
                      double rel) {
  if (positions.size() < 2) return false;
  int lo = std::numeric_limits<int>::max(), hi = 0;
  for (auto i : positions) {
    int load = effective_load(candidates[i]);
    lo = std::min(lo, load);
    hi = std::max(hi, load);
  }
  return hi - lo > abs && hi > rel * lo;
}

std::size_t least_loaded_of(std::span<const candidate> candidates, std::span<const std::size_t> positions,
                            std::size_t turn) {
  int best = std::numeric_limits<int>::max();
  std::size_t tied = 0;
  for (auto i : positions) {
    int load = effective_load(candidates[i]);
    if (load < best) { best = load; tied = 0; }
    if (load == best) ++tied;
  }
  std::size_t nth = turn % tied;
  for (auto i : positions)
    if (effective_load(candidates[i]) == best && nth-- == 0) return i;
  return positions.front();  // unreachable: nth < tied
}

route_decision decide(std::span<const candidate> candidates, std::size_t at, route_reason reason,
                      double predicted_ttft_s) {
  return {at, reason, candidates[at].matched_blocks, candidates[at].matched_tokens, predicted_ttft_s};
}

namespace {

// The circuit breaker's side of every policy: a half-open node's cool-down is over and one
// request decides whether it closes (health.hpp), so that request must be sent even while closed
// nodes are up. Left to the policies, the trial would never happen: they prefer closed nodes.
class with_circuit_trials final : public policy {
 public:
  explicit with_circuit_trials(std::unique_ptr<policy> inner) : inner_(std::move(inner)) {}
  std::string_view name() const override { return inner_->name(); }
  route_decision pick(std::span<const candidate> candidates, const route_request& request) override {
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      const candidate& c = candidates[i];
      if (c.circuit == circuit_state::half_open && c.in_flight == 0 && eligible(c, request))
        return decide(candidates, i, route_reason::circuit_trial);
    }
    return inner_->pick(candidates, request);
  }

 private:
  std::unique_ptr<policy> inner_;
};

std::unique_ptr<policy> make_bare_policy(const policy_config& config) {
  const std::string_view name = config.name;
  if (name == "least_in_flight") return make_least_in_flight();
  if (name == "least_loaded") return make_least_loaded();
  if (name == "round_robin") return make_round_robin();
  if (name == "prefix_only") return make_prefix_only(config);
  if (name == "kv_aware") return make_kv_aware(config);
  return nullptr;
}

}  // namespace

}  // namespace detail

std::unique_ptr<policy> make_policy(const policy_config& config) {
  auto bare = detail::make_bare_policy(config);
  if (!bare) return nullptr;
  return std::make_unique<detail::with_circuit_trials>(std::move(bare));
}

std::unique_ptr<policy> make_policy(std::string_view name) {
  policy_config config;
  config.name = std::string(name);
  return make_policy(config);
}

std::vector<std::string> policy_names() {
  return {"kv_aware", "least_loaded", "least_in_flight", "prefix_only", "round_robin"};
}

}  // namespace laneway::routing
