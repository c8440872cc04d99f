// Percentiles, per-rung summaries and gates for `laneway ladder` (see ladder_stats.hpp).
#include "tools/ladder/ladder_stats.hpp"

#include <algorithm>
#include <cmath>

namespace laneway::ladder {

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  p = std::clamp(p, 0.0, 100.0);
  double rank = p / 100.0 * static_cast<double>(values.size() - 1);
  auto lo = static_cast<std::size_t>(std::floor(rank));
  auto hi = static_cast<std::size_t>(std::ceil(rank));
  double frac = rank - static_cast<double>(lo);
  return values[lo] + (values[hi] - values[lo]) * frac;
}

percentiles percentiles_of(const std::vector<double>& values) {
  percentiles r;
  r.n = values.size();
  r.p50 = percentile(values, 50);
  r.p95 = percentile(values, 95);
  r.p99 = percentile(values, 99);
  return r;
}

rung_summary summarize(int concurrency, double wall_s, const std::vector<request_sample>& samples) {
  rung_summary s;
  s.concurrency = concurrency;
  s.wall_s = wall_s;
  std::vector<double> ttft, short_ttft, gaps, e2e;
  for (const auto& r : samples) {
    if (r.concurrency != concurrency) continue;
    ++s.requests;
    if (!r.ok()) {
      ++s.errors;
      ++s.errors_by_class[r.error_class];
      if (!r.error_detail.empty()) s.error_examples.emplace(r.error_class, r.error_detail);
      continue;
    }
    s.prompt_tokens += r.prompt_tokens;
    s.completion_tokens += r.completion_tokens;
    e2e.push_back(r.e2e_s);
    if (r.ttft_s >= 0) {
      ttft.push_back(r.ttft_s);
      if (r.short_prompt) short_ttft.push_back(r.ttft_s);
    }
    gaps.insert(gaps.end(), r.gaps_s.begin(), r.gaps_s.end());
  }
  s.error_rate = s.requests ? static_cast<double>(s.errors) / static_cast<double>(s.requests) : 0;
  s.tokens_per_s = wall_s > 0 ? static_cast<double>(s.completion_tokens) / wall_s : 0;
  s.ttft = percentiles_of(ttft);
  s.short_ttft = percentiles_of(short_ttft);
  s.gap = percentiles_of(gaps);
  s.e2e = percentiles_of(e2e);
  return s;
}

std::vector<window_summary> windows_of(const std::vector<request_sample>& samples, double window_s, double wall_s) {
  std::vector<window_summary> out;
  if (window_s <= 0) return out;
  auto n = static_cast<std::size_t>(std::ceil(std::max(wall_s, 0.0) / window_s));
  out.resize(std::max<std::size_t>(n, 1));
  std::vector<std::vector<double>> ttft(out.size());
  std::vector<long> tokens(out.size(), 0);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i].start_s = window_s * static_cast<double>(i);
    out[i].end_s = std::min(window_s * static_cast<double>(i + 1), std::max(wall_s, out[i].start_s));
  }
  for (const auto& r : samples) {
    auto i = std::min(out.size() - 1, static_cast<std::size_t>(std::max(r.start_s, 0.0) / window_s));
    ++out[i].requests;
    if (!r.ok()) {
      ++out[i].errors;
      continue;
    }
    if (r.ttft_s >= 0) ttft[i].push_back(r.ttft_s);
    tokens[i] += r.completion_tokens;
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto& w = out[i];
    w.error_rate = w.requests ? static_cast<double>(w.errors) / static_cast<double>(w.requests) : 0;
    w.ttft = percentiles_of(ttft[i]);
    double len = w.end_s - w.start_s;
    w.tokens_per_s = len > 0 ? static_cast<double>(tokens[i]) / len : 0;
  }
  return out;
}

namespace {

std::string rung_name(int c) { return "c=" + std::to_string(c); }

// The rung with the largest value of `get` among rungs where `has` holds.
template <typename Has, typename Get>
gate_result worst_rung(std::string name, const std::vector<rung_summary>& rungs, double threshold, Has has, Get get) {
  gate_result g{std::move(name), false, true, 0, threshold, false, "no samples"};
  for (const auto& r : rungs) {
    if (!has(r)) continue;
    double v = get(r);
    if (!g.evaluated || v > g.measured) {
      g.evaluated = true;
      g.measured = v;
      g.detail = "worst rung " + rung_name(r.concurrency);
    }
  }
  if (g.evaluated) g.pass = g.measured <= threshold;
  return g;
}

}  // namespace

std::vector<gate_result> evaluate_gates(const std::vector<rung_summary>& rungs, const gate_thresholds& t,
                                        bool stream, long long min_available_bytes) {
  std::vector<gate_result> gates;
  gates.push_back(worst_rung("short_ttft_p95_s", rungs, t.short_ttft_p95_s,
                             [](const rung_summary& r) { return r.short_ttft.n > 0; },
                             [](const rung_summary& r) { return r.short_ttft.p95; }));
  if (stream) {
    gates.push_back(worst_rung("gap_p95_s", rungs, t.gap_p95_s, [](const rung_summary& r) { return r.gap.n > 0; },
                               [](const rung_summary& r) { return r.gap.p95; }));
  } else {
    gates.push_back({"gap_p95_s", false, true, 0, t.gap_p95_s, false, "needs --stream"});
  }
  gates.push_back(worst_rung("error_rate", rungs, t.error_rate, [](const rung_summary& r) { return r.requests > 0; },
                             [](const rung_summary& r) { return r.error_rate; }));
  gate_result d{"doubling_ttft_rise", false, true, 0, t.doubling_ttft_rise, false,
                "no rung at twice another's concurrency"};
  for (const auto& lo : rungs) {
    for (const auto& hi : rungs) {
      if (hi.concurrency != 2 * lo.concurrency || lo.ttft.n == 0 || hi.ttft.n == 0 || lo.ttft.p95 <= 0) continue;
      double rise = hi.ttft.p95 / lo.ttft.p95 - 1;
      if (!d.evaluated || rise > d.measured) {
        d.evaluated = true;
        d.measured = rise;
        d.detail = "worst pair " + rung_name(lo.concurrency) + " -> " + rung_name(hi.concurrency);
      }
    }
  }
  if (d.evaluated) d.pass = d.measured <= d.threshold;
  gates.push_back(d);
  gate_result m{"free_memory_bytes", min_available_bytes >= 0, true, static_cast<double>(min_available_bytes),
                t.free_memory_bytes, true, "lowest available memory sampled during the run"};
  if (m.evaluated) {
    m.pass = m.measured >= m.threshold;
  } else {
    m.measured = 0;
    m.detail = "no memory samples (Linux and macOS only)";
  }
  gates.push_back(m);
  return gates;
}

bool rung_passes(const rung_summary& r, const gate_thresholds& t, bool stream) {
  if (r.requests == 0 || r.error_rate > t.error_rate) return false;
  if (r.short_ttft.n > 0 && r.short_ttft.p95 > t.short_ttft_p95_s) return false;
  if (stream && r.gap.n > 0 && r.gap.p95 > t.gap_p95_s) return false;
  return true;
}

bool all_passed(const std::vector<gate_result>& gates) {
  return std::all_of(gates.begin(), gates.end(), [](const gate_result& g) { return !g.evaluated || g.pass; });
}

}  // namespace laneway::ladder
