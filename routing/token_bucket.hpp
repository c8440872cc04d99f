// A token bucket: `rate` units per second refill up to `burst`; a request takes its cost or is
// told how long until it could. Lanes use one for requests/s and one for tokens/min (cost =
// estimated tokens, corrected by `adjust` when the real usage is known, which may leave the
// bucket in debt: a lane that under-estimated waits longer next time). The clock is passed in.
#pragma once

#include <chrono>

namespace laneway::routing {

class token_bucket {
 public:
  using clock = std::chrono::steady_clock;

  // rate <= 0: unlimited (every take succeeds). burst <= 0: burst = max(rate, 1), one second's worth.
  token_bucket(double rate_per_s, double burst, clock::time_point now);

  bool unlimited() const { return rate_ <= 0; }
  // Takes `cost` when the bucket holds it (a cost above burst is capped at burst, so a large
  // request is slow but never impossible). false: nothing taken.
  bool try_take(double cost, clock::time_point now);
  // Adds `delta` to what was taken (positive: the request cost more than estimated; negative:
  // refund). Refunds never fill above burst; debts may go below zero.
  void adjust(double delta, clock::time_point now);
  // Seconds until `cost` could be taken (0 when it can now).
  double seconds_until(double cost, clock::time_point now) const;
  double available(clock::time_point now) const;  // units in the bucket now (negative = debt)

 private:
  void refill(clock::time_point now);
  double level_at(clock::time_point now) const;

  double rate_;
  double burst_;
  double level_;              // units as of at_
  clock::time_point at_;
};

}  // namespace laneway::routing
