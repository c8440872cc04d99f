// prefix_only: cache affinity without a cost model, as SGLang's cache_aware router does it —
// least loaded when loads are badly imbalanced (max − min > imbalance_abs and max >
// imbalance_rel × min); else the node with the longest matched prefix if that covers more than
// prefix_min_ratio of the prompt's blocks (ties by load); else the least loaded. It ignores how
// much work is queued on the node it prefers, which is what kv_aware adds.
#include <algorithm>

#include "routing/policies.hpp"

namespace laneway::routing::detail {

namespace {

class prefix_only final : public policy {
 public:
  explicit prefix_only(const policy_config& config) : config_(config) {}

  std::string_view name() const override { return "prefix_only"; }

  route_decision pick(std::span<const candidate> candidates, const route_request& request) override {
    auto positions = eligible_positions(candidates, request);
    if (positions.empty()) return {};
    if (badly_imbalanced(candidates, positions, config_.imbalance_abs, config_.imbalance_rel))
      return decide(candidates, least_loaded_of(candidates, positions, turn_++), route_reason::imbalance_fallback);

    std::size_t longest = 0;
    for (auto i : positions) longest = std::max(longest, candidates[i].matched_blocks);
    const bool follow = request.prompt_blocks > 0 && longest > 0 &&
                        double(longest) / double(request.prompt_blocks) > config_.prefix_min_ratio;
    if (!follow) return decide(candidates, least_loaded_of(candidates, positions, turn_++), route_reason::least_loaded);

    std::vector<std::size_t> best;
    for (auto i : positions)
      if (candidates[i].matched_blocks == longest) best.push_back(i);
    return decide(candidates, least_loaded_of(candidates, best, turn_++), route_reason::prefix);
  }

 private:
  policy_config config_;
  std::size_t turn_ = 0;
};

}  // namespace

std::unique_ptr<policy> make_prefix_only(const policy_config& config) {
  return std::make_unique<prefix_only>(config);
}

}  // namespace laneway::routing::detail
