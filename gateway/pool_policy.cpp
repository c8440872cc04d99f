// Pool keep/reuse rules (see pool_policy.hpp).
#include "gateway/pool_policy.hpp"

namespace laneway::gateway {

std::string_view to_string(pool_verdict verdict) {
  switch (verdict) {
    case pool_verdict::keep: return "keep";
    case pool_verdict::idle_timeout: return "idle_timeout";
    case pool_verdict::max_age: return "max_age";
    case pool_verdict::pool_full: return "pool_full";
    case pool_verdict::not_reusable: return "not_reusable";
  }
  return "keep";
}

pool_verdict on_release(const pool_settings& s, bool reusable, pool_clock::time_point created,
                        pool_clock::time_point now, std::size_t idle_now) {
  if (!reusable) return pool_verdict::not_reusable;
  if (now - created >= s.max_age) return pool_verdict::max_age;
  if (idle_now >= s.max_idle) return pool_verdict::pool_full;
  return pool_verdict::keep;
}

pool_verdict on_checkout(const pool_settings& s, pool_clock::time_point created, pool_clock::time_point last_used,
                         pool_clock::time_point now) {
  if (now - created >= s.max_age) return pool_verdict::max_age;
  if (now - last_used >= s.idle_timeout) return pool_verdict::idle_timeout;
  return pool_verdict::keep;
}

}  // namespace laneway::gateway
