// Table, CSV and JSON for `laneway ladder` (see ladder_report.hpp). Times in the JSON and CSV
// are seconds; the table shows milliseconds.
#include "tools/ladder/ladder_report.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "tools/ladder/prompt_mix.hpp"

namespace laneway::ladder {

namespace {

nlohmann::json pct_json(const percentiles& p) {
  return {{"n", p.n}, {"p50", p.p50}, {"p95", p.p95}, {"p99", p.p99}};
}

std::string ms3(const percentiles& p) {
  char b[64];
  if (p.n == 0) return "-";
  std::snprintf(b, sizeof b, "%.1f/%.1f/%.1f", 1000 * p.p50, 1000 * p.p95, 1000 * p.p99);
  return b;
}

const char* verdict(const gate_result& g) { return !g.evaluated ? "SKIP" : g.pass ? "PASS" : "FAIL"; }

}  // namespace

void print_table(const run_info& info, const std::vector<rung_summary>& rungs, const std::vector<gate_result>& gates) {
  std::printf("laneway ladder %s: %s model %s, %s, max_tokens %d, %.1fs per rung\n", info.version.c_str(),
              info.url.c_str(), info.model.c_str(), info.stream ? "stream" : "no stream", info.max_tokens,
              info.duration_s);
  std::printf("mix %s\n\n", builtin_mix().summary().c_str());
  std::printf("%5s %6s %6s %8s  %-22s %-22s %-22s %-22s\n", "conc", "reqs", "err%", "tok/s", "ttft ms p50/p95/p99",
              "short ttft ms", "gap ms p50/p95/p99", "e2e ms p50/p95/p99");
  for (const auto& r : rungs) {
    std::printf("%5d %6zu %5.1f%% %8.1f  %-22s %-22s %-22s %-22s\n", r.concurrency, r.requests, 100 * r.error_rate,
                r.tokens_per_s, ms3(r.ttft).c_str(), ms3(r.short_ttft).c_str(), ms3(r.gap).c_str(),
                ms3(r.e2e).c_str());
    for (const auto& [cls, n] : r.errors_by_class) std::printf("      errors %s: %zu\n", cls.c_str(), n);
  }
  std::printf("\ngates:\n");
  for (const auto& g : gates) {
    if (!g.evaluated) {
      std::printf("  %s %-20s (%s)\n", verdict(g), g.name.c_str(), g.detail.c_str());
    } else {
      std::printf("  %s %-20s measured %.4f %s %.4f (%s)\n", verdict(g), g.name.c_str(), g.measured,
                  g.pass ? "<=" : ">", g.threshold, g.detail.c_str());
    }
  }
}

std::string summary_json(const run_info& info, const std::vector<rung_summary>& rungs,
                         const std::vector<gate_result>& gates) {
  const auto& mix = builtin_mix();
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& e : mix.entries) {
    entries.push_back({{"kind", e.kind}, {"weight", e.weight}, {"of", mix.rotation.size()},
                       {"short_prompt", e.short_prompt}, {"max_tokens_cap", e.max_tokens},
                       {"description", e.description}, {"system", e.system}, {"user", e.user}});
  }
  nlohmann::json j = {{"tool", "laneway ladder"}, {"version", info.version}, {"url", info.url},
                      {"model", info.model}, {"stream", info.stream}, {"max_tokens", info.max_tokens},
                      {"duration_s", info.duration_s}, {"request_timeout_s", info.request_timeout_s},
                      {"mix", {{"name", mix.name}, {"entries", entries}}}};
  nlohmann::json rj = nlohmann::json::array();
  for (const auto& r : rungs) {
    rj.push_back({{"concurrency", r.concurrency}, {"wall_s", r.wall_s}, {"requests", r.requests},
                  {"errors", r.errors}, {"error_rate", r.error_rate}, {"errors_by_class", r.errors_by_class},
                  {"prompt_tokens", r.prompt_tokens}, {"completion_tokens", r.completion_tokens},
                  {"tokens_per_s", r.tokens_per_s}, {"ttft_s", pct_json(r.ttft)},
                  {"short_ttft_s", pct_json(r.short_ttft)}, {"gap_s", pct_json(r.gap)}, {"e2e_s", pct_json(r.e2e)}});
  }
  j["rungs"] = rj;
  nlohmann::json gj = nlohmann::json::array();
  for (const auto& g : gates) {
    gj.push_back({{"name", g.name}, {"result", verdict(g)}, {"evaluated", g.evaluated}, {"pass", g.pass},
                  {"measured", g.measured}, {"threshold", g.threshold}, {"detail", g.detail}});
  }
  j["gates"] = gj;
  j["gates_passed"] = all_passed(gates);
  return j.dump(2) + "\n";
}

std::string requests_csv(const std::vector<request_sample>& samples) {
  std::string out =
      "concurrency,client,seq,kind,start_s,status,error_class,ttft_s,e2e_s,chunks,gap_p50_s,gap_max_s,"
      "prompt_tokens,completion_tokens\n";
  char line[512];
  for (const auto& s : samples) {
    double gap_max = s.gaps_s.empty() ? 0 : *std::max_element(s.gaps_s.begin(), s.gaps_s.end());
    std::snprintf(line, sizeof line, "%d,%d,%d,%s,%.6f,%d,%s,%.6f,%.6f,%d,%.6f,%.6f,%ld,%ld\n", s.concurrency,
                  s.client, s.seq, s.kind.c_str(), s.start_s, s.status, s.error_class.c_str(), s.ttft_s, s.e2e_s,
                  s.chunks, percentile(s.gaps_s, 50), gap_max, s.prompt_tokens, s.completion_tokens);
    out += line;
  }
  return out;
}

}  // namespace laneway::ladder
