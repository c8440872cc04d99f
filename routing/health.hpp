// Health of one node as the gateway sees it: active probes eject a node after N consecutive
// failures and return it after M successes; passive failures on real traffic (connect errors,
// 5xx) open a circuit for a cool-down, then one trial request decides (half-open).
// Pure state machine: the caller supplies the clock and serialises calls.
#pragma once

#include <chrono>
#include <string_view>

namespace laneway::routing {

struct health_thresholds {
  int unhealthy_threshold = 2;  // consecutive failed probes to eject
  int healthy_threshold = 1;    // consecutive good probes to return
  int circuit_failures = 3;     // consecutive traffic failures to open the circuit
  std::chrono::milliseconds circuit_cooldown{10'000};
};

enum class health_change { none, ejected, returned, circuit_opened, circuit_closed };
enum class circuit_state { closed, open, half_open };

std::string_view to_string(health_change change);
std::string_view to_string(circuit_state state);

class node_health {
 public:
  using clock = std::chrono::steady_clock;

  // A node starts unhealthy until its first probe succeeds (so /ready means "a node answered").
  explicit node_health(health_thresholds thresholds) : thresholds_(thresholds) {}

  health_change on_probe(bool ok, clock::time_point now);
  health_change on_traffic(bool failure, clock::time_point now);

  bool healthy() const { return healthy_; }
  circuit_state circuit(clock::time_point now) const;
  // Healthy by probes and the circuit lets traffic through (closed or half-open).
  bool routable(clock::time_point now) const { return healthy_ && circuit(now) != circuit_state::open; }

 private:
  health_thresholds thresholds_;
  bool healthy_ = false;
  int probe_failures_ = 0;
  int probe_successes_ = 0;
  int traffic_failures_ = 0;
  bool circuit_open_ = false;
  clock::time_point circuit_until_{};
};

}  // namespace laneway::routing
