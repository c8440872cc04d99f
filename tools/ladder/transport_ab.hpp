// Transport A/B: the connection setup tax as a number. The same short request (the mix's first
// short-prompt entry, max_tokens 1, so generation adds little noise) is sent N times on one warm
// keep-alive connection and N times on a new connection each (Connection: close; a new TLS
// handshake too for https), alternating A B A B so drift hits both alike.
#pragma once

#include <string>
#include <vector>

#include "tools/ladder/ladder_client.hpp"
#include "tools/ladder/ladder_stats.hpp"

namespace laneway::ladder {

struct transport_ab {
  int pairs = 0;             // 0: not run
  std::string kind;          // the mix entry sent
  bool tls = false;
  percentiles keep_alive_s;  // request time on the warm connection
  percentiles close_s;       // connect (+ handshake) + request time on a fresh one
  percentiles setup_s;       // the connect (+ handshake) part alone
  double tax_p50_s = 0, tax_p95_s = 0;  // close - keep_alive
  std::size_t errors = 0;
  std::string error_example;
};

// The percentiles and taxes of measured times (pure; unit-tested).
transport_ab summarize_ab(const std::vector<double>& keep_alive_s, const std::vector<double>& close_s,
                          const std::vector<double>& setup_s);

// Runs the A/B on its own io_context (blocking).
transport_ab run_transport_ab(const ladder_target& target, const prompt_mix& mix, int pairs);

}  // namespace laneway::ladder
