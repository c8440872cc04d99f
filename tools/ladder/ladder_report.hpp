// `laneway ladder` outputs: the stdout table, the raw CSV (one row per request) and the JSON
// summary (run settings, the prompt mix, per-rung percentiles and the gates).
#pragma once

#include <string>
#include <vector>

#include "tools/ladder/ladder_stats.hpp"

namespace laneway::ladder {

struct run_info {
  std::string url, model, version;
  bool stream = false;
  int max_tokens = 0;
  double duration_s = 0;
  double request_timeout_s = 0;
};

void print_table(const run_info& info, const std::vector<rung_summary>& rungs, const std::vector<gate_result>& gates);
std::string summary_json(const run_info& info, const std::vector<rung_summary>& rungs,
                         const std::vector<gate_result>& gates);
std::string requests_csv(const std::vector<request_sample>& samples);

}  // namespace laneway::ladder
