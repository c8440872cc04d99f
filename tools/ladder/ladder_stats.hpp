// `laneway ladder` numbers: one sample per request, per-rung percentiles computed from the raw
// samples, and the PASS/FAIL gates. Pure code (no I/O), so the unit suite tests it directly.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace laneway::ladder {

// What one request measured. Times are seconds; ttft_s < 0 when no content token arrived.
struct request_sample {
  int concurrency = 0;        // the rung it ran in
  int client = 0;             // which closed-loop client sent it
  int seq = 0;                // the client's n-th request
  std::string kind;           // prompt-mix entry (short_chat, agent_call, long_summarise)
  bool short_prompt = false;  // counts toward the short-prompt TTFT gate
  double start_s = 0;         // since the rung started
  int status = 0;             // HTTP status, 0 when no response head arrived
  std::string error_class;    // "" (ok), timeout, reset, connect, tls, 4xx, 5xx, bad_response
  std::string error_detail;   // what went wrong, for the summary's first example per class
  bool stream = false;        // sent with stream: true
  bool new_connection = false;  // a connection (and TLS session) was set up for it
  double setup_s = 0;           // that connect + handshake time (0 on a reused connection)
  double ttft_s = -1;         // stream: first content delta; otherwise the whole body
  double e2e_s = 0;
  int chunks = 0;              // content deltas received (stream only)
  std::vector<double> gaps_s;  // between consecutive content deltas (stream only)
  long prompt_tokens = 0;      // from usage
  long completion_tokens = 0;
  bool ok() const { return error_class.empty(); }
};

struct percentiles {
  std::size_t n = 0;
  double p50 = 0, p95 = 0, p99 = 0;  // 0 when n == 0
};

// Linear interpolation between closest ranks (numpy's default) on a copy of `values`;
// p in [0, 100]. Returns 0 for an empty input.
double percentile(std::vector<double> values, double p);
percentiles percentiles_of(const std::vector<double>& values);

struct rung_summary {
  int concurrency = 0;
  double wall_s = 0;  // rung start until its last request ended
  std::size_t requests = 0, errors = 0;
  double error_rate = 0;
  std::map<std::string, std::size_t> errors_by_class;
  std::map<std::string, std::string> error_examples;  // the first error_detail per class
  long prompt_tokens = 0, completion_tokens = 0;
  double tokens_per_s = 0;  // completion tokens of successful requests / wall_s
  percentiles ttft, short_ttft, gap, e2e;  // successful requests only
};

rung_summary summarize(int concurrency, double wall_s, const std::vector<request_sample>& samples);

// A fixed window of a long run (`laneway soak`): requests that started in [start_s, end_s).
struct window_summary {
  double start_s = 0, end_s = 0;
  std::size_t requests = 0, errors = 0;
  double error_rate = 0;
  percentiles ttft;  // successful requests
  double tokens_per_s = 0;
};
std::vector<window_summary> windows_of(const std::vector<request_sample>& samples, double window_s, double wall_s);

struct gate_thresholds {
  double short_ttft_p95_s = 1.2;
  double gap_p95_s = 0.120;
  double error_rate = 0.02;
  double doubling_ttft_rise = 0.15;  // p95 TTFT at 2C over p95 TTFT at C, minus 1
  double free_memory_bytes = 3e9;    // lowest available memory while the load ran, at least
};

struct gate_result {
  std::string name;
  bool evaluated = false;  // false: nothing to measure (no stream, no doubled rung, no samples)
  bool pass = true;        // meaningful only when evaluated
  double measured = 0;
  double threshold = 0;
  bool at_least = false;   // pass when measured >= threshold (memory); the others pass when <=
  std::string detail;      // which rung or pair gave the measured (worst) value, or why skipped
};

// Each gate takes the worst rung (or worst doubling pair); see docs/ladder.md. `min_available_bytes`
// is the lowest available memory sampled during the run, < 0 when none was sampled (gate SKIP).
std::vector<gate_result> evaluate_gates(const std::vector<rung_summary>& rungs, const gate_thresholds& t,
                                        bool stream, long long min_available_bytes = -1);
// Whether one rung alone meets the latency and error gates (economics take the best such rung).
bool rung_passes(const rung_summary& r, const gate_thresholds& t, bool stream);
bool all_passed(const std::vector<gate_result>& gates);

}  // namespace laneway::ladder
