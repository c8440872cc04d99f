// The policies that ignore prefixes, kept for comparison and for nodes without a prefix index:
// round_robin (next eligible node in turn), least_in_flight (fewest requests the gateway has
// open there) and least_loaded (least effective load: the gateway's count or the node's own
// running + waiting, whichever is larger). Ties rotate, so equal nodes share load.
#include <algorithm>
#include <atomic>
#include <limits>

#include "routing/policies.hpp"

namespace laneway::routing::detail {

namespace {

class round_robin final : public policy {
 public:
  std::string_view name() const override { return "round_robin"; }
  route_decision pick(std::span<const candidate> candidates, const route_request& request) override {
    auto positions = eligible_positions(candidates, request);
    if (positions.empty()) return {};
    const std::size_t turn = turn_.fetch_add(1, std::memory_order_relaxed);
    return decide(candidates, positions[turn % positions.size()], route_reason::round_robin);
  }

 private:
  std::atomic<std::size_t> turn_{0};  // atomic: safe to call unserialised
};

class least_in_flight final : public policy {
 public:
  std::string_view name() const override { return "least_in_flight"; }
  route_decision pick(std::span<const candidate> candidates, const route_request& request) override {
    auto positions = eligible_positions(candidates, request);
    if (positions.empty()) return {};
    int best = std::numeric_limits<int>::max();
    std::size_t tied = 0;
    for (auto i : positions) {
      if (candidates[i].in_flight < best) { best = candidates[i].in_flight; tied = 0; }
      if (candidates[i].in_flight == best) ++tied;
    }
    std::size_t nth = turn_.fetch_add(1, std::memory_order_relaxed) % tied;
    for (auto i : positions)
      if (candidates[i].in_flight == best && nth-- == 0) return decide(candidates, i, route_reason::least_loaded);
    return {};  // unreachable: nth < tied
  }

 private:
  std::atomic<std::size_t> turn_{0};  // atomic: safe to call unserialised
};

class least_loaded final : public policy {
 public:
  std::string_view name() const override { return "least_loaded"; }
  route_decision pick(std::span<const candidate> candidates, const route_request& request) override {
    auto positions = eligible_positions(candidates, request);
    if (positions.empty()) return {};
    const std::size_t turn = turn_.fetch_add(1, std::memory_order_relaxed);
    return decide(candidates, least_loaded_of(candidates, positions, turn), route_reason::least_loaded);
  }

 private:
  std::atomic<std::size_t> turn_{0};  // atomic: safe to call unserialised
};

}  // namespace

std::unique_ptr<policy> make_round_robin() { return std::make_unique<round_robin>(); }
std::unique_ptr<policy> make_least_in_flight() { return std::make_unique<least_in_flight>(); }
std::unique_ptr<policy> make_least_loaded() { return std::make_unique<least_loaded>(); }

}  // namespace laneway::routing::detail
