// `laneway ladder` / `laneway soak` outputs: the stdout table, the raw CSV (one row per
// request), the memory CSV (one row per sample) and the JSON summary (run stamp, the mix,
// transport A/B, per-rung percentiles, knee, memory, gates, economics, soak windows). The HTML
// report is html_report.hpp.
#pragma once

#include <string>
#include <vector>

#include "tools/ladder/economics.hpp"
#include "tools/ladder/ladder_run.hpp"

namespace laneway::ladder {

struct run_info {
  std::string command = "ladder";  // or "soak"
  std::string url, model, version, date_utc;
  bool stream = false;
  int max_tokens = 0;
  double duration_s = 0;  // per rung
  double request_timeout_s = 0;
  std::string concurrency;  // as given, "1,2,4"
  std::string model_file, model_digest;    // --model-file and its SHA-256
  std::string server_model_digest;         // what GET /v1/models reports, "" when nothing
  std::string config_file, config_digest;  // --config and its SHA-256
  std::string mix_digest;                  // SHA-256 of the mix's TOML text
  std::vector<int> pids;
  double window_s = 0;  // soak: the window of the per-window table
};

struct run_report {
  run_info info;
  const prompt_mix* mix = nullptr;
  run_result result;
  std::vector<gate_result> gates;
  economics costs;
  std::vector<window_summary> windows;  // soak only
};

void print_table(const run_report& r);
std::string summary_json(const run_report& r);
std::string requests_csv(const std::vector<request_sample>& samples);
std::string memory_csv(const std::vector<memory_sample>& series, const std::vector<int>& pids);
const char* verdict(const gate_result& g);  // PASS, FAIL or SKIP
std::string gate_value(const gate_result& g, double v);  // "1.234 s", "12.0 %", "3.21 GB"

}  // namespace laneway::ladder
