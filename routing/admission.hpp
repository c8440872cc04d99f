// Lanes and admission (docs/lanes.md): before a request is routed it must be admitted by its
// lane — rate limits (token buckets), the lane's in-flight cap and the gateway's total capacity —
// or wait in the lane's bounded queue, or be rejected (429 with Retry-After, 503 when shed or
// timed out). When capacity frees, queued requests are served by lane priority, then weighted
// fairness across lanes of one priority, then fairness by tokens served across a lane's tenants.
// Pure: requests are tickets, the clock is passed in, the caller serialises calls and wakes the
// tickets that come back admitted.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "routing/token_bucket.hpp"

namespace laneway::routing {

// One `[[lanes]]` entry, less its match rules (the gateway matches a request to a lane name).
struct lane_config {
  std::string name;
  int priority = 0;                   // higher is served first when capacity frees
  double weight = 1;                  // share of capacity among lanes of equal priority (> 0)
  int max_in_flight = 0;              // requests of this lane admitted at once; 0 = no lane cap
  std::size_t max_queue = 0;          // requests waiting at once; 0 = no queue (reject when full)
  std::chrono::milliseconds queue_timeout{30'000};  // longest wait in the queue before a 503
  double requests_per_s = 0;          // request rate limit; 0 = none
  double request_burst = 0;           // bucket size in requests; 0 = one second's worth
  double tokens_per_min = 0;          // token rate limit (prompt + max_tokens estimated); 0 = none
  double token_burst = 0;             // bucket size in tokens; 0 = one minute's worth
  bool sheddable = false;             // rejected (503) rather than queued while the gateway is saturated
  std::int64_t context_budget_tokens = 0;  // context a request may use, for the KV contract; 0 = none
};

using ticket = std::uint64_t;

struct admission_request {
  std::string_view lane;              // the lane name the gateway matched
  std::string_view tenant;            // the API key's tenant (fairness inside the lane); may be empty
  std::int64_t estimated_tokens = 0;  // prompt tokens + max_tokens, the token bucket's cost
};

enum class admission_status { admitted, queued, rejected };
enum class reject_reason {
  none,
  unknown_lane,   // 500: the gateway matched a lane the controller does not know (a config bug)
  request_rate,   // 429: requests_per_s exhausted
  token_rate,     // 429: tokens_per_min exhausted
  queue_full,     // 429: max_queue requests already waiting
  shed,           // 503: sheddable lane while saturated
  queue_timeout,  // 503: waited queue_timeout (reported by expire())
};
std::string_view to_string(reject_reason reason);
std::string_view to_string(admission_status status);

struct admission_outcome {
  admission_status status = admission_status::rejected;
  ticket id = 0;                       // admitted or queued: the handle for finish / cancel
  reject_reason reason = reject_reason::none;
  int http_status = 0;                 // rejected: 429, 503 or 500; else 0
  int retry_after_s = 0;               // rejected with 429/503: the Retry-After value (>= 1)
};

// Counters and gauges of one lane (metrics, tests).
struct lane_stats {
  int in_flight = 0;                  // admitted and not finished
  std::size_t queued = 0;             // waiting now
  std::uint64_t admitted = 0;         // ever admitted (at once or from the queue)
  std::uint64_t rejected = 0;         // ever rejected at admit() (any reason)
  std::uint64_t shed = 0;             // of which shed
  std::uint64_t timed_out = 0;        // expired in the queue
  double served_tokens = 0;           // tokens of admitted requests (estimates, corrected by usage)
};

class admission_controller {
 public:
  using clock = std::chrono::steady_clock;

  // max_in_flight_total: the gateway's capacity across lanes (e.g. the sum of the routable
  // nodes' KV-contract caps); 0 = unlimited. Saturated = that many requests in flight.
  admission_controller(std::vector<lane_config> lanes, clock::time_point now, std::size_t max_in_flight_total = 0);

  // Rate limits first (a rejected request takes nothing), then admitted when the lane and the
  // gateway have room and nobody of the lane waits; else queued; else rejected.
  admission_outcome admit(const admission_request& request, clock::time_point now);
  // An admitted request ended. actual_tokens (prompt + completion from usage; < 0 unknown)
  // corrects the lane's token bucket and its served tokens. Returns the queued tickets admitted
  // because of the freed slot, in serving order.
  std::vector<ticket> finish(ticket id, std::int64_t actual_tokens, clock::time_point now);
  // A queued request's client left: removed, its tokens refunded. false when not queued.
  bool cancel(ticket id, clock::time_point now);
  // Queued requests past their lane's queue_timeout: removed (answer 503 queue_timeout).
  std::vector<ticket> expire(clock::time_point now);
  // New total capacity (nodes came or went); returns tickets admitted if it grew.
  std::vector<ticket> set_capacity(std::size_t max_in_flight_total, clock::time_point now);

  std::optional<clock::time_point> next_deadline() const;  // earliest queue timeout, for a timer
  bool saturated() const;                                   // in flight >= capacity (never when unlimited)
  std::size_t in_flight() const { return in_flight_; }
  std::optional<lane_stats> stats(std::string_view lane) const;
  const lane_config* lane(std::string_view name) const;
  // When ticket `id` was queued (for the queue_wait in logs); nullopt when unknown.
  std::optional<clock::time_point> enqueued_at(ticket id) const;

 private:
  struct waiting {
    ticket id;
    std::int64_t tokens;
    clock::time_point deadline;
  };
  struct tenant_queue {
    std::deque<waiting> queue;
    double served_tokens = 0;          // virtual: catches up to the lane's least when re-activated
  };
  struct lane_state {
    lane_config config;
    token_bucket requests;
    token_bucket tokens;
    std::map<std::string, tenant_queue, std::less<>> tenants;  // only tenants with queued requests
    double virtual_served = 0;         // served_tokens / weight, with catch-up when re-activated
    lane_stats stats;
  };
  struct ticket_state {
    std::size_t lane;
    std::string tenant;
    std::int64_t tokens;               // estimate charged so far
    bool queued;
    clock::time_point enqueued;
  };

  lane_state* find_lane(std::string_view name);
  bool lane_has_room(const lane_state& lane) const;
  bool gateway_has_room() const;
  void enqueue(lane_state& lane, std::string_view tenant, waiting w);
  std::vector<ticket> drain_queues(clock::time_point now);
  void start(std::size_t lane, ticket id, std::int64_t tokens);
  bool remove_queued(ticket id, clock::time_point now);

  std::vector<lane_state> lanes_;
  std::unordered_map<ticket, ticket_state> tickets_;
  std::size_t capacity_;
  std::size_t in_flight_ = 0;
  ticket next_id_ = 1;
};

}  // namespace laneway::routing
