// Lane classification and the admission lane table (see lanes.hpp).
#include "gateway/lanes.hpp"

#include <algorithm>

#include "gateway/config_lanes.hpp"

namespace laneway::gateway {

lane_table::lane_table(const std::vector<lane_config>& lanes) : lanes_(lanes) {
  if (lanes_.empty()) {
    lane_config unlimited;
    unlimited.name = "default";
    unlimited.max_queue = 0;  // never needed: no lane cap and no gateway capacity without [[lanes]]
    lanes_.push_back(unlimited);
  }
  fallback_ = fallback_lane(lanes_);
}

std::optional<std::size_t> lane_table::find(std::string_view name) const {
  for (std::size_t i = 0; i < lanes_.size(); ++i)
    if (lanes_[i].name == name) return i;
  return std::nullopt;
}

http::result<std::size_t> lane_table::classify(const lane_request& request) const {
  if (request.key && request.key->allow_lane_header && !request.lane_header.empty()) {
    if (auto i = find(request.lane_header)) return *i;
    return http::make_error(http::error_kind::bad_request,
                            "X-Lane names no configured lane (\"" + std::string(request.lane_header) + "\")", "X-Lane");
  }
  if (request.key && !request.key->lane.empty()) {
    if (auto i = find(request.key->lane)) return *i;
  }
  auto contains = [](const std::vector<std::string>& list, std::string_view v) {
    return std::find(list.begin(), list.end(), v) != list.end();
  };
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    const auto& l = lanes_[i];
    if (l.models.empty() && l.paths.empty()) continue;
    if (!l.models.empty() && !contains(l.models, request.model)) continue;
    if (!l.paths.empty() && !contains(l.paths, request.path)) continue;
    return i;
  }
  return fallback_;
}

std::vector<routing::lane_config> lane_table::admission_lanes() const {
  std::vector<routing::lane_config> out;
  for (const auto& l : lanes_) {
    routing::lane_config r;
    r.name = l.name;
    r.priority = l.priority;
    r.weight = l.weight;
    r.max_in_flight = static_cast<int>(l.max_in_flight);
    r.max_queue = l.max_queue;
    r.queue_timeout = l.queue_timeout;
    r.requests_per_s = l.requests_per_s;
    r.request_burst = l.request_burst;
    r.tokens_per_min = l.tokens_per_min;
    r.token_burst = l.token_burst;
    r.sheddable = l.sheddable;
    r.context_budget_tokens = static_cast<std::int64_t>(l.context_budget);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace laneway::gateway
