// Percentiles over raw latency samples and medians over pairs, for the gateway overhead bench.
// Nearest-rank percentiles on a sorted copy: no interpolation, no averaging.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace laneway::bench {

// p in [0, 100]; samples need not be sorted. Empty input gives 0.
inline double percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return 0.0;
  std::sort(samples.begin(), samples.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(samples.size())));
  if (rank == 0) rank = 1;
  return samples[std::min(rank, samples.size()) - 1];
}

inline double median(std::vector<double> values) { return percentile(std::move(values), 50.0); }

struct latency_summary {
  double p50 = 0, p95 = 0, p99 = 0, min = 0, max = 0;
  std::size_t samples = 0;
};

inline latency_summary summarize(const std::vector<double>& samples) {
  latency_summary s;
  s.samples = samples.size();
  if (samples.empty()) return s;
  s.p50 = percentile(samples, 50);
  s.p95 = percentile(samples, 95);
  s.p99 = percentile(samples, 99);
  auto [lo, hi] = std::minmax_element(samples.begin(), samples.end());
  s.min = *lo;
  s.max = *hi;
  return s;
}

}  // namespace laneway::bench
