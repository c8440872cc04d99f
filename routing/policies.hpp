// Internal to routing/: the policy types' constructors for the factory (policy.cpp), and the
// candidate filtering every policy shares. Not for the gateway: it uses make_policy().
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "routing/policy.hpp"

namespace laneway::routing::detail {

std::unique_ptr<policy> make_round_robin();
std::unique_ptr<policy> make_least_in_flight();
std::unique_ptr<policy> make_least_loaded();
std::unique_ptr<policy> make_prefix_only(const policy_config& config);
std::unique_ptr<policy> make_kv_aware(const policy_config& config);

// Positions of the eligible candidates; when some have a closed circuit, only those (a half-open
// node that reaches a policy has its trial request under way: make_policy's wrapper sent it).
std::vector<std::size_t> eligible_positions(std::span<const candidate> candidates, const route_request& request);

// SGLang's imbalance rule over the positions' effective loads: max − min > abs and max > rel × min.
bool badly_imbalanced(std::span<const candidate> candidates, std::span<const std::size_t> positions, int abs,
                      double rel);

// Among `positions`, those with the least effective load; `turn` rotates the choice among them
// so equal nodes share load. Returns a position in `candidates`.
std::size_t least_loaded_of(std::span<const candidate> candidates, std::span<const std::size_t> positions,
                            std::size_t turn);

// A decision for position `at` with the candidate's match filled in.
route_decision decide(std::span<const candidate> candidates, std::size_t at, route_reason reason,
                      double predicted_ttft_s = -1);

}  // namespace laneway::routing::detail
