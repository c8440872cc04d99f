// Admission by lane: rate limits, in-flight caps, bounded queues with timeouts, shedding, and the
// serving order when capacity frees. Serving order, each time a slot is free:
//   1. among lanes with someone waiting and room under their own max_in_flight, the highest
//      priority;
//   2. among those, the least virtual service — tokens admitted / weight — so over time lanes of
//      one priority share admitted tokens in proportion to their weights. A lane that starts
//      waiting again begins at least at the smallest virtual service of the lanes already
//      waiting, so idle time is not banked as credit;
//   3. inside the lane, the tenant with the fewest tokens served (same catch-up rule), then FIFO.
#include "routing/admission.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace laneway::routing {

std::string_view to_string(reject_reason reason) {
  switch (reason) {
    case reject_reason::none: return "none";
    case reject_reason::unknown_lane: return "unknown_lane";
    case reject_reason::request_rate: return "request_rate";
    case reject_reason::token_rate: return "token_rate";
    case reject_reason::queue_full: return "queue_full";
    case reject_reason::shed: return "shed";
    case reject_reason::queue_timeout: return "queue_timeout";
  }
  return "none";
}

std::string_view to_string(admission_status status) {
  switch (status) {
    case admission_status::admitted: return "admitted";
    case admission_status::queued: return "queued";
    case admission_status::rejected: return "rejected";
  }
  return "rejected";
}

namespace {

admission_outcome rejection(reject_reason reason, int status, double retry_after_s) {
  admission_outcome out;
  out.reason = reason;
  out.http_status = status;
  out.retry_after_s = std::max(1, int(std::ceil(retry_after_s)));
  return out;
}

}  // namespace

admission_controller::admission_controller(std::vector<lane_config> lanes, clock::time_point now,
                                           std::size_t max_in_flight_total)
    : capacity_(max_in_flight_total) {
  lanes_.reserve(lanes.size());
  for (auto& config : lanes) {
    const double tokens_per_s = config.tokens_per_min / 60.0;
    const double token_burst = config.token_burst > 0 ? config.token_burst : config.tokens_per_min;
    token_bucket requests(config.requests_per_s, config.request_burst, now);
    token_bucket tokens(tokens_per_s, token_burst, now);
    if (!(config.weight > 0)) config.weight = 1;
    lanes_.push_back({std::move(config), requests, tokens, {}, 0, {}});
  }
}

admission_controller::lane_state* admission_controller::find_lane(std::string_view name) {
  for (auto& lane : lanes_)
    if (lane.config.name == name) return &lane;
  return nullptr;
}

const lane_config* admission_controller::lane(std::string_view name) const {
  for (const auto& lane : lanes_)
    if (lane.config.name == name) return &lane.config;
  return nullptr;
}

bool admission_controller::lane_has_room(const lane_state& lane) const {
  return lane.config.max_in_flight <= 0 || lane.stats.in_flight < lane.config.max_in_flight;
}

bool admission_controller::gateway_has_room() const { return capacity_ == 0 || in_flight_ < capacity_; }

bool admission_controller::saturated() const { return capacity_ > 0 && in_flight_ >= capacity_; }

admission_outcome admission_controller::admit(const admission_request& request, clock::time_point now) {
  lane_state* lane = find_lane(request.lane);
  if (!lane) return rejection(reject_reason::unknown_lane, 500, 1);
  const bool can_start = lane_has_room(*lane) && gateway_has_room() && lane->stats.queued == 0;
  auto reject = [&](reject_reason reason, int status, double retry_after_s) {
    ++lane->stats.rejected;
    if (reason == reject_reason::shed) ++lane->stats.shed;
    return rejection(reason, status, retry_after_s);
  };
  if (!can_start) {
    if (lane->config.sheddable && saturated()) return reject(reject_reason::shed, 503, 1);
    if (lane->stats.queued >= lane->config.max_queue) return reject(reject_reason::queue_full, 429, 1);
  }
  const double tokens = double(std::max<std::int64_t>(0, request.estimated_tokens));
  if (!lane->requests.try_take(1, now))
    return reject(reject_reason::request_rate, 429, lane->requests.seconds_until(1, now));
  if (!lane->tokens.try_take(tokens, now)) {
    lane->requests.adjust(-1, now);  // a rejected request takes nothing
    return reject(reject_reason::token_rate, 429, lane->tokens.seconds_until(tokens, now));
  }

  const std::size_t index = std::size_t(lane - lanes_.data());
  const ticket id = next_id_++;
  tickets_.emplace(id, ticket_state{index, std::string(request.tenant), std::int64_t(tokens), !can_start, now});
  admission_outcome out;
  out.id = id;
  if (can_start) {
    start(index, id, std::int64_t(tokens));
    out.status = admission_status::admitted;
  } else {
    enqueue(*lane, request.tenant, {id, std::int64_t(tokens), now + lane->config.queue_timeout});
    out.status = admission_status::queued;
  }
  return out;
}

void admission_controller::start(std::size_t index, ticket id, std::int64_t tokens) {
  lane_state& lane = lanes_[index];
  ++lane.stats.in_flight;
  ++lane.stats.admitted;
  lane.stats.served_tokens += double(tokens);
  lane.virtual_served += double(tokens) / lane.config.weight;
  ++in_flight_;
  tickets_[id].queued = false;
}

void admission_controller::enqueue(lane_state& lane, std::string_view tenant, waiting w) {
  if (lane.stats.queued == 0) {  // the lane starts waiting: no credit for its idle time
    double least = std::numeric_limits<double>::infinity();
    for (const auto& other : lanes_)
      if (&other != &lane && other.stats.queued > 0 && other.config.priority == lane.config.priority)
        least = std::min(least, other.virtual_served);
    if (std::isfinite(least)) lane.virtual_served = std::max(lane.virtual_served, least);
  }
  auto it = lane.tenants.find(tenant);
  if (it == lane.tenants.end()) {
    double least = std::numeric_limits<double>::infinity();
    for (const auto& [name, q] : lane.tenants) least = std::min(least, q.served_tokens);
    it = lane.tenants.emplace(std::string(tenant), tenant_queue{}).first;
    it->second.served_tokens = std::isfinite(least) ? least : 0;
  }
  it->second.queue.push_back(w);
  ++lane.stats.queued;
}

std::vector<ticket> admission_controller::drain_queues(clock::time_point) {
  std::vector<ticket> started;
  while (gateway_has_room()) {
    lane_state* next = nullptr;
    for (auto& lane : lanes_) {
      if (lane.stats.queued == 0 || !lane_has_room(lane)) continue;
      if (!next || lane.config.priority > next->config.priority ||
          (lane.config.priority == next->config.priority && lane.virtual_served < next->virtual_served))
        next = &lane;
    }
    if (!next) break;
    auto tenant = std::min_element(next->tenants.begin(), next->tenants.end(), [](const auto& a, const auto& b) {
      return a.second.served_tokens < b.second.served_tokens;
    });
    waiting w = tenant->second.queue.front();
    tenant->second.queue.pop_front();
    tenant->second.served_tokens += double(w.tokens);
    if (tenant->second.queue.empty()) next->tenants.erase(tenant);
    --next->stats.queued;
    start(std::size_t(next - lanes_.data()), w.id, w.tokens);
    started.push_back(w.id);
  }
  return started;
}

std::vector<ticket> admission_controller::finish(ticket id, std::int64_t actual_tokens, clock::time_point now) {
  auto it = tickets_.find(id);
  if (it == tickets_.end() || it->second.queued) return {};
  lane_state& lane = lanes_[it->second.lane];
  if (actual_tokens >= 0) {
    const double delta = double(actual_tokens - it->second.tokens);
    lane.tokens.adjust(delta, now);
    lane.stats.served_tokens += delta;
    lane.virtual_served += delta / lane.config.weight;
  }
  --lane.stats.in_flight;
  --in_flight_;
  tickets_.erase(it);
  return drain_queues(now);
}

bool admission_controller::remove_queued(ticket id, clock::time_point now) {
  auto it = tickets_.find(id);
  if (it == tickets_.end() || !it->second.queued) return false;
  lane_state& lane = lanes_[it->second.lane];
  auto tenant = lane.tenants.find(it->second.tenant);
  if (tenant != lane.tenants.end()) {
    auto& q = tenant->second.queue;
    q.erase(std::remove_if(q.begin(), q.end(), [id](const waiting& w) { return w.id == id; }), q.end());
    if (q.empty()) lane.tenants.erase(tenant);
  }
  --lane.stats.queued;
  lane.tokens.adjust(-double(it->second.tokens), now);  // never served: refund
  tickets_.erase(it);
  return true;
}

bool admission_controller::cancel(ticket id, clock::time_point now) { return remove_queued(id, now); }

std::vector<ticket> admission_controller::expire(clock::time_point now) {
  std::vector<ticket> expired;
  for (auto& lane : lanes_)
    for (auto& [name, q] : lane.tenants)
      for (const auto& w : q.queue)  // FIFO with one timeout per lane: deadlines ascend
        if (w.deadline <= now) expired.push_back(w.id);
        else break;
  for (auto id : expired) {
    ++lanes_[tickets_.at(id).lane].stats.timed_out;
    remove_queued(id, now);
  }
  return expired;
}

std::vector<ticket> admission_controller::set_capacity(std::size_t max_in_flight_total, clock::time_point now) {
  capacity_ = max_in_flight_total;
  return drain_queues(now);
}

std::optional<admission_controller::clock::time_point> admission_controller::next_deadline() const {
  std::optional<clock::time_point> first;
  for (const auto& lane : lanes_)
    for (const auto& [name, q] : lane.tenants)
      if (!q.queue.empty() && (!first || q.queue.front().deadline < *first)) first = q.queue.front().deadline;
  return first;
}

std::optional<lane_stats> admission_controller::stats(std::string_view name) const {
  for (const auto& lane : lanes_)
    if (lane.config.name == name) return lane.stats;
  return std::nullopt;
}

std::optional<admission_controller::clock::time_point> admission_controller::enqueued_at(ticket id) const {
  auto it = tickets_.find(id);
  if (it == tickets_.end()) return std::nullopt;
  return it->second.enqueued;
}

}  // namespace laneway::routing
