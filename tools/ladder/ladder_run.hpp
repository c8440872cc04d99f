// The machinery `laneway ladder` and `laneway soak` share: the transport A/B, then one rung per
// concurrency level (C closed-loop clients on one io_context, a progress line on stderr every
// second), stopping at the knee, with the memory sampler running over the whole load.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "tools/ladder/knee.hpp"
#include "tools/ladder/ladder_client.hpp"
#include "tools/ladder/memory_sampler.hpp"
#include "tools/ladder/transport_ab.hpp"

namespace laneway::ladder {

struct run_options {
  std::string command = "ladder";  // the progress lines' prefix
  ladder_target target;
  const prompt_mix* mix = nullptr;
  std::vector<int> levels;
  std::chrono::milliseconds duration{10000};  // per rung
  gate_thresholds gates;
  knee_thresholds knee;
  std::vector<int> pids;  // local server processes whose RSS is sampled
  int ab_pairs = 20;      // 0: no transport A/B
  std::chrono::milliseconds window{0};  // > 0: the progress line also shows this window's p95 (soak)
};

struct run_result {
  std::vector<request_sample> samples;
  std::vector<rung_summary> rungs;
  std::vector<double> rung_start_s;  // since the run (and the memory series) started
  std::string knee_reason;           // "" when every rung ran
  std::vector<int> skipped;          // rungs not run because of the knee
  transport_ab ab;
  std::vector<memory_sample> memory;
  long long min_available_bytes = -1;  // over the memory series; -1 when none
};

run_result execute_run(const run_options& opts);

}  // namespace laneway::ladder
