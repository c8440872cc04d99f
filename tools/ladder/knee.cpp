// knee_reason (see knee.hpp).
#include "tools/ladder/knee.hpp"

#include <cstdio>

namespace laneway::ladder {

std::string knee_reason(const rung_summary& r, const gate_thresholds& gates, const knee_thresholds& k) {
  if (!k.enabled || r.requests == 0) return "";
  char b[256];
  if (r.error_rate > k.error_rate) {
    std::snprintf(b, sizeof b, "c=%d: error rate %.1f%% > knee %.1f%%", r.concurrency, 100 * r.error_rate,
                  100 * k.error_rate);
    return b;
  }
  const percentiles& ttft = r.short_ttft.n > 0 ? r.short_ttft : r.ttft;
  double limit = k.ttft_factor * gates.short_ttft_p95_s;
  if (ttft.n > 0 && ttft.p95 > limit) {
    std::snprintf(b, sizeof b, "c=%d: p95 %sTTFT %.0f ms > %.1f x the %.0f ms gate", r.concurrency,
                  r.short_ttft.n > 0 ? "short-prompt " : "", 1000 * ttft.p95, k.ttft_factor,
                  1000 * gates.short_ttft_p95_s);
    return b;
  }
  return "";
}

}  // namespace laneway::ladder
