// Node health state machine (see health.hpp).
#include "routing/health.hpp"

namespace laneway::routing {

std::string_view to_string(health_change change) {
  switch (change) {
    case health_change::none: return "none";
    case health_change::ejected: return "ejected";
    case health_change::returned: return "returned";
    case health_change::circuit_opened: return "circuit_opened";
    case health_change::circuit_closed: return "circuit_closed";
  }
  return "none";
}

std::string_view to_string(circuit_state state) {
  switch (state) {
    case circuit_state::closed: return "closed";
    case circuit_state::open: return "open";
    case circuit_state::half_open: return "half_open";
  }
  return "closed";
}

health_change node_health::on_probe(bool ok, clock::time_point) {
  if (ok) {
    probe_failures_ = 0;
    ++probe_successes_;
    if (!healthy_ && probe_successes_ >= thresholds_.healthy_threshold) {
      healthy_ = true;
      return health_change::returned;
    }
    return health_change::none;
  }
  probe_successes_ = 0;
  ++probe_failures_;
  if (healthy_ && probe_failures_ >= thresholds_.unhealthy_threshold) {
    healthy_ = false;
    return health_change::ejected;
  }
  return health_change::none;
}

circuit_state node_health::circuit(clock::time_point now) const {
  if (!circuit_open_) return circuit_state::closed;
  return now < circuit_until_ ? circuit_state::open : circuit_state::half_open;
}

health_change node_health::on_traffic(bool failure, clock::time_point now) {
  const circuit_state before = circuit(now);
  if (!failure) {
    traffic_failures_ = 0;
    if (circuit_open_) {
      circuit_open_ = false;
      return health_change::circuit_closed;
    }
    return health_change::none;
  }
  ++traffic_failures_;
  // Half-open: the trial request failed, so open again at once.
  if (before == circuit_state::half_open || (!circuit_open_ && traffic_failures_ >= thresholds_.circuit_failures)) {
    circuit_open_ = true;
    circuit_until_ = now + thresholds_.circuit_cooldown;
    return health_change::circuit_opened;
  }
  return health_change::none;
}

}  // namespace laneway::routing
