// Token bucket arithmetic: the level refills linearly at `rate` up to `burst`, computed lazily
// from the time of the last change; costs above burst are capped so they stay possible.
#include "routing/token_bucket.hpp"

#include <algorithm>

namespace laneway::routing {

token_bucket::token_bucket(double rate_per_s, double burst, clock::time_point now)
    : rate_(rate_per_s), burst_(burst > 0 ? burst : std::max(rate_per_s, 1.0)), level_(burst_), at_(now) {}

double token_bucket::level_at(clock::time_point now) const {
  if (now <= at_) return level_;
  const double elapsed = std::chrono::duration<double>(now - at_).count();
  return std::min(burst_, level_ + elapsed * rate_);
}

void token_bucket::refill(clock::time_point now) {
  level_ = level_at(now);
  at_ = std::max(at_, now);
}

bool token_bucket::try_take(double cost, clock::time_point now) {
  if (unlimited()) return true;
  refill(now);
  const double c = std::min(cost, burst_);
  if (level_ < c) return false;
  level_ -= c;
  return true;
}

void token_bucket::adjust(double delta, clock::time_point now) {
  if (unlimited()) return;
  refill(now);
  level_ = std::min(burst_, level_ - delta);
}

double token_bucket::seconds_until(double cost, clock::time_point now) const {
  if (unlimited()) return 0;
  const double c = std::min(cost, burst_);
  const double level = level_at(now);
  return level >= c ? 0 : (c - level) / rate_;
}

double token_bucket::available(clock::time_point now) const { return unlimited() ? burst_ : level_at(now); }

}  // namespace laneway::routing
