// `laneway sim`: the routing benchmark. Simulated nodes (sim_node.hpp) serve a shared-prefix
// workload (workload.hpp) while the real routing code decides: the gateway side here does what
// the gateway does — polls /load every second into rate estimates, follows each node's KV events
// with precise_index (or records what it sent in approximate_index), tracks in-flight requests
// and their pending prefill, builds candidates and calls the policy from make_policy().
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "routing/policy.hpp"
#include "routing/sim/sim_node.hpp"
#include "routing/sim/workload.hpp"

namespace laneway::routing::sim {

struct sim_config {
  std::size_t nodes = 4;
  node_model node;
  workload_config workload;
  double poll_interval_s = 1.0;   // the gateway's /load polling period
  bool approximate = false;       // approximate_index (prompts sent) instead of the precise one (KV events)
};

struct sim_result {
  std::string policy;
  std::size_t requests = 0;
  double hit_rate = 0;            // prompt tokens found in the chosen node's cache / prompt tokens
  double oracle_hit_rate = 0;     // the same had each request gone to the node whose cache held most of it at arrival
  double ttft_p50 = 0, ttft_p95 = 0, ttft_p99 = 0, ttft_mean = 0;  // seconds, arrival to first token
  double duration_s = 0;          // simulated time until the last request finished
  std::map<std::string, std::size_t> reasons;  // decisions by route_reason
};

sim_result run_simulation(const sim_config& config, const policy_config& policy,
                          const std::vector<sim_request>& workload);

}  // namespace laneway::routing::sim
