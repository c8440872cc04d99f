// Load generation for the gateway overhead bench: a closed-loop generator (C keep-alive
// connections, each sending its next request as soon as the previous answer is complete) for
// plain chat completions, and a sequential SSE client that timestamps every event it receives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace laneway::bench {

struct http_target {
  std::string host;
  std::uint16_t port = 0;
};

struct closed_loop_options {
  int concurrency = 1;  // connections, one request in flight on each
  int warmup = 0;       // requests sent first and not measured
  int requests = 1000;  // measured requests
  int threads = 1;      // client I/O threads (connections spread round-robin)
  std::string model = "bench";
};

struct closed_loop_result {
  std::vector<double> latency_us;  // one per measured request that got a 200
  double seconds = 0;              // wall time from the first measured request to the last answer
  std::size_t errors = 0;          // transport failures and non-200 answers (warm-up included)
  std::string first_error;
  double requests_per_second() const { return seconds > 0 ? static_cast<double>(latency_us.size()) / seconds : 0; }
};

closed_loop_result run_closed_loop(const http_target& target, const closed_loop_options& options);

struct sse_options {
  int requests = 100;  // measured streams, one after another on one connection
  int warmup = 10;
  int events = 8;      // events the node sends per stream (plus a final [DONE])
  int gap_ms = 0;      // node-side pause between events
};

struct sse_result {
  std::vector<double> first_event_us;  // request written → first complete event read, per stream
  std::vector<double> gap_us;          // between consecutive events of one stream
  std::size_t events = 0;              // events read in measured streams ([DONE] included)
  std::size_t errors = 0;
  std::string first_error;
};

sse_result run_sse(const http_target& target, const sse_options& options);

}  // namespace laneway::bench
