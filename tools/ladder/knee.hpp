// Stopping at the knee: after each rung the ladder asks whether it failed badly enough that
// higher rungs would only measure a server already past its limit (and take minutes doing it).
#pragma once

#include <string>

#include "tools/ladder/ladder_stats.hpp"

namespace laneway::ladder {

struct knee_thresholds {
  bool enabled = true;       // --no-knee runs every rung
  double error_rate = 0.10;  // a rung with more errors than this stops the ladder
  double ttft_factor = 2.0;  // ... or with short-prompt p95 TTFT over this x the TTFT gate
};

// Why the ladder stops after rung `r` ("" to go on). Uses short-prompt TTFT, or all TTFT when the
// rung had no short prompts.
std::string knee_reason(const rung_summary& r, const gate_thresholds& gates, const knee_thresholds& k);

}  // namespace laneway::ladder
