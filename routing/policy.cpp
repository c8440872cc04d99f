// The simple policies: least_in_flight (default until KV-aware routing lands) and round_robin.
// least_in_flight breaks ties by rotating through the tied nodes, so equal nodes share load.
#include "routing/policy.hpp"

#include <atomic>

namespace laneway::routing {

namespace {

class least_in_flight final : public policy {
 public:
  std::string_view name() const override { return "least_in_flight"; }
  std::optional<std::size_t> pick(std::span<const candidate> candidates, const route_request&) override {
    if (candidates.empty()) return std::nullopt;
    int best = candidates[0].in_flight;
    std::size_t tied = 0;
    for (const auto& c : candidates) {
      if (c.in_flight < best) { best = c.in_flight; tied = 0; }
      if (c.in_flight == best) ++tied;
    }
    std::size_t nth = turn_.fetch_add(1, std::memory_order_relaxed) % tied;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      if (candidates[i].in_flight == best && nth-- == 0) return i;
    }
    return 0;  // unreachable: nth < tied
  }

 private:
  std::atomic<std::size_t> turn_{0};
};

class round_robin final : public policy {
 public:
  std::string_view name() const override { return "round_robin"; }
  std::optional<std::size_t> pick(std::span<const candidate> candidates, const route_request&) override {
    if (candidates.empty()) return std::nullopt;
    return turn_.fetch_add(1, std::memory_order_relaxed) % candidates.size();
  }

 private:
  std::atomic<std::size_t> turn_{0};
};

}  // namespace

std::unique_ptr<policy> make_policy(std::string_view name) {
  if (name == "least_in_flight") return std::make_unique<least_in_flight>();
  if (name == "round_robin") return std::make_unique<round_robin>();
  return nullptr;
}

std::vector<std::string> policy_names() { return {"least_in_flight", "round_robin"}; }

}  // namespace laneway::routing
