// Table, CSV and JSON for `laneway ladder` (see ladder_report.hpp). Times in the JSON and CSV
// are seconds and sizes bytes; the table shows milliseconds and GB.
#include "tools/ladder/ladder_report.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

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

void print_ab(const transport_ab& ab) {
  if (ab.pairs == 0) return;
  std::printf("\ntransport A/B (%s, %d pairs%s): keep-alive p50/p95 %.2f/%.2f ms, Connection: close %.2f/%.2f ms\n",
              ab.kind.c_str(), ab.pairs, ab.tls ? ", TLS" : "", 1000 * ab.keep_alive_s.p50, 1000 * ab.keep_alive_s.p95,
              1000 * ab.close_s.p50, 1000 * ab.close_s.p95);
  std::printf("  setup tax p50 %.2f ms, p95 %.2f ms (connect%s alone p50 %.2f ms)%s\n", 1000 * ab.tax_p50_s,
              1000 * ab.tax_p95_s, ab.tls ? " + TLS handshake" : "", 1000 * ab.setup_s.p50,
              ab.errors ? (", " + std::to_string(ab.errors) + " errors: " + ab.error_example).c_str() : "");
}

void print_economics(const economics& e) {
  if (!e.present) return;
  std::printf("\neconomics (%s): %.4f per hour", e.basis.c_str(), e.cost_per_hour);
  if (e.cost_per_million_tokens >= 0) {
    std::printf(", %.4f per million generated tokens at %.1f tok/s (rung c=%d%s)\n", e.cost_per_million_tokens,
                e.tokens_per_s, e.rung, e.rung_passed ? ", best passing rung" : ", no rung passed its gates");
  } else {
    std::printf(", no tokens generated: no cost per token\n");
  }
}

}  // namespace

const char* verdict(const gate_result& g) { return !g.evaluated ? "SKIP" : g.pass ? "PASS" : "FAIL"; }

std::string gate_value(const gate_result& g, double v) {
  char b[64];
  if (g.name == "free_memory_bytes") {
    std::snprintf(b, sizeof b, "%.2f GB", v / 1e9);
  } else if (g.name == "error_rate" || g.name == "doubling_ttft_rise") {
    std::snprintf(b, sizeof b, "%.1f %%", 100 * v);
  } else {
    std::snprintf(b, sizeof b, "%.1f ms", 1000 * v);
  }
  return b;
}

void print_table(const run_report& rep) {
  const auto& info = rep.info;
  const auto& res = rep.result;
  std::printf("laneway %s %s: %s model %s, %s, max_tokens %d, %.1fs per rung\n", info.command.c_str(),
              info.version.c_str(), info.url.c_str(), info.model.c_str(), info.stream ? "stream" : "no stream",
              info.max_tokens, info.duration_s);
  std::printf("mix %s (sha256 %.12s, %s)\n", rep.mix->summary().c_str(), info.mix_digest.c_str(),
              rep.mix->source.c_str());
  print_ab(res.ab);
  std::printf("\n%5s %6s %6s %8s  %-22s %-22s %-22s %-22s\n", "conc", "reqs", "err%", "tok/s", "ttft ms p50/p95/p99",
              "short ttft ms", "gap ms p50/p95/p99", "e2e ms p50/p95/p99");
  for (const auto& r : res.rungs) {
    std::printf("%5d %6zu %5.1f%% %8.1f  %-22s %-22s %-22s %-22s\n", r.concurrency, r.requests, 100 * r.error_rate,
                r.tokens_per_s, ms3(r.ttft).c_str(), ms3(r.short_ttft).c_str(), ms3(r.gap).c_str(),
                ms3(r.e2e).c_str());
    for (const auto& [cls, n] : r.errors_by_class) {
      auto ex = r.error_examples.find(cls);
      std::printf("      errors %s: %zu%s%s\n", cls.c_str(), n, ex == r.error_examples.end() ? "" : " e.g. ",
                  ex == r.error_examples.end() ? "" : ex->second.c_str());
    }
  }
  if (!res.knee_reason.empty()) {
    std::string skipped;
    for (int c : res.skipped) skipped += (skipped.empty() ? "" : ",") + std::to_string(c);
    std::printf("\nknee: %s; %s\n", res.knee_reason.c_str(),
                skipped.empty() ? "it was the last rung" : ("skipped rungs " + skipped).c_str());
  }
  if (!rep.windows.empty()) {
    std::printf("\n%8s %6s %6s %-22s %8s\n", "window", "reqs", "err%", "ttft ms p50/p95/p99", "tok/s");
    for (const auto& w : rep.windows)
      std::printf("%7.0fs %6zu %5.1f%% %-22s %8.1f\n", w.start_s, w.requests, 100 * w.error_rate, ms3(w.ttft).c_str(),
                  w.tokens_per_s);
  }
  if (!res.memory.empty()) {
    std::printf("\nmemory: %zu samples, lowest available %.2f GB", res.memory.size(),
                static_cast<double>(res.min_available_bytes) / 1e9);
    for (std::size_t p = 0; p < info.pids.size(); ++p) {
      long long peak = -1;
      for (const auto& m : res.memory)
        if (p < m.rss_bytes.size()) peak = std::max(peak, m.rss_bytes[p]);
      std::printf(", pid %d peak RSS %.1f MB", info.pids[p], static_cast<double>(peak) / 1e6);
    }
    std::printf("\n");
  }
  print_economics(rep.costs);
  std::printf("\ngates:\n");
  for (const auto& g : rep.gates) {
    if (!g.evaluated) {
      std::printf("  %s %-20s (%s)\n", verdict(g), g.name.c_str(), g.detail.c_str());
    } else {
      const char* op = g.at_least ? (g.pass ? ">=" : "<") : (g.pass ? "<=" : ">");
      std::printf("  %s %-20s measured %s %s %s (%s)\n", verdict(g), g.name.c_str(), gate_value(g, g.measured).c_str(),
                  op, gate_value(g, g.threshold).c_str(), g.detail.c_str());
    }
  }
}

std::string summary_json(const run_report& rep) {
  const auto& info = rep.info;
  const auto& res = rep.result;
  const auto& mix = *rep.mix;
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& e : mix.entries) {
    nlohmann::json msgs = nlohmann::json::array();
    for (const auto& m : e.sent) msgs.push_back({{"role", m.role}, {"content", m.content}});
    entries.push_back({{"kind", e.kind}, {"weight", e.weight}, {"of", mix.rotation.size()},
                       {"short_prompt", e.short_prompt}, {"max_tokens_cap", e.max_tokens},
                       {"stream", e.stream ? nlohmann::json(*e.stream) : nlohmann::json()},
                       {"generated_chars", e.generated_chars}, {"description", e.description}, {"messages", msgs}});
  }
  nlohmann::json j = {{"tool", "laneway " + info.command}, {"version", info.version}, {"date", info.date_utc},
                      {"url", info.url}, {"model", info.model}, {"stream", info.stream},
                      {"max_tokens", info.max_tokens}, {"duration_s", info.duration_s},
                      {"request_timeout_s", info.request_timeout_s}, {"concurrency", info.concurrency},
                      {"model_file", info.model_file}, {"model_sha256", info.model_digest},
                      {"server_model_digest", info.server_model_digest},
                      {"config_file", info.config_file}, {"config_sha256", info.config_digest}, {"pids", info.pids},
                      {"mix", {{"name", mix.name}, {"version", mix.version}, {"label", mix.label()},
                               {"source", mix.source}, {"sha256", info.mix_digest},
                               {"description", mix.description}, {"entries", entries}}}};
  const auto& ab = res.ab;
  if (ab.pairs > 0) {
    j["transport_ab"] = {{"pairs", ab.pairs}, {"kind", ab.kind}, {"tls", ab.tls},
                         {"keep_alive_s", pct_json(ab.keep_alive_s)}, {"close_s", pct_json(ab.close_s)},
                         {"setup_s", pct_json(ab.setup_s)}, {"tax_p50_s", ab.tax_p50_s}, {"tax_p95_s", ab.tax_p95_s},
                         {"errors", ab.errors}, {"error_example", ab.error_example}};
  }
  nlohmann::json rj = nlohmann::json::array();
  for (std::size_t i = 0; i < res.rungs.size(); ++i) {
    const auto& r = res.rungs[i];
    rj.push_back({{"concurrency", r.concurrency}, {"start_s", i < res.rung_start_s.size() ? res.rung_start_s[i] : 0},
                  {"wall_s", r.wall_s}, {"requests", r.requests}, {"errors", r.errors}, {"error_rate", r.error_rate},
                  {"errors_by_class", r.errors_by_class}, {"error_examples", r.error_examples},
                  {"prompt_tokens", r.prompt_tokens}, {"completion_tokens", r.completion_tokens},
                  {"tokens_per_s", r.tokens_per_s}, {"ttft_s", pct_json(r.ttft)},
                  {"short_ttft_s", pct_json(r.short_ttft)}, {"gap_s", pct_json(r.gap)}, {"e2e_s", pct_json(r.e2e)}});
  }
  j["rungs"] = rj;
  j["knee"] = {{"stopped", !res.skipped.empty()}, {"reason", res.knee_reason}, {"skipped", res.skipped}};
  nlohmann::json mem = nlohmann::json::array();
  for (const auto& m : res.memory) {
    mem.push_back({{"t_s", m.t_s}, {"available_bytes", m.available_bytes}, {"swap_used_bytes", m.swap_used_bytes},
                   {"pressure", m.pressure}, {"rss_bytes", m.rss_bytes}});
  }
  j["memory"] = {{"samples", mem}, {"min_available_bytes", res.min_available_bytes}};
  if (!rep.windows.empty()) {
    nlohmann::json wj = nlohmann::json::array();
    for (const auto& w : rep.windows)
      wj.push_back({{"start_s", w.start_s}, {"end_s", w.end_s}, {"requests", w.requests}, {"errors", w.errors},
                    {"error_rate", w.error_rate}, {"ttft_s", pct_json(w.ttft)}, {"tokens_per_s", w.tokens_per_s}});
    j["windows"] = {{"window_s", info.window_s}, {"items", wj}};
  }
  const auto& e = rep.costs;
  if (e.present) {
    j["economics"] = {{"basis", e.basis}, {"hardware_per_hour", e.hardware_per_hour},
                      {"power_per_hour", e.power_per_hour}, {"cost_per_hour", e.cost_per_hour},
                      {"tokens_per_s", e.tokens_per_s}, {"rung", e.rung}, {"rung_passed", e.rung_passed},
                      {"cost_per_million_tokens", e.cost_per_million_tokens < 0 ? nlohmann::json()
                                                                                : nlohmann::json(e.cost_per_million_tokens)}};
  }
  nlohmann::json gj = nlohmann::json::array();
  for (const auto& g : rep.gates) {
    gj.push_back({{"name", g.name}, {"result", verdict(g)}, {"evaluated", g.evaluated}, {"pass", g.pass},
                  {"measured", g.measured}, {"threshold", g.threshold}, {"at_least", g.at_least},
                  {"detail", g.detail}});
  }
  j["gates"] = gj;
  j["gates_passed"] = all_passed(rep.gates);
  return j.dump(2) + "\n";
}

std::string requests_csv(const std::vector<request_sample>& samples) {
  std::string out =
      "concurrency,client,seq,kind,start_s,status,error_class,ttft_s,e2e_s,chunks,gap_p50_s,gap_max_s,"
      "prompt_tokens,completion_tokens,stream,new_connection,setup_s\n";
  char line[512];
  for (const auto& s : samples) {
    double gap_max = s.gaps_s.empty() ? 0 : *std::max_element(s.gaps_s.begin(), s.gaps_s.end());
    std::snprintf(line, sizeof line, "%d,%d,%d,%s,%.6f,%d,%s,%.6f,%.6f,%d,%.6f,%.6f,%ld,%ld,%d,%d,%.6f\n",
                  s.concurrency, s.client, s.seq, s.kind.c_str(), s.start_s, s.status, s.error_class.c_str(), s.ttft_s,
                  s.e2e_s, s.chunks, percentile(s.gaps_s, 50), gap_max, s.prompt_tokens, s.completion_tokens,
                  s.stream ? 1 : 0, s.new_connection ? 1 : 0, s.setup_s);
    out += line;
  }
  return out;
}

std::string memory_csv(const std::vector<memory_sample>& series, const std::vector<int>& pids) {
  std::string out = "t_s,available_bytes,swap_used_bytes,pressure";
  for (int pid : pids) out += ",rss_bytes_" + std::to_string(pid);
  out += "\n";
  char line[128];
  for (const auto& m : series) {
    std::snprintf(line, sizeof line, "%.3f,%lld,%lld,%.2f", m.t_s, m.available_bytes, m.swap_used_bytes, m.pressure);
    out += line;
    for (std::size_t i = 0; i < pids.size(); ++i)
      out += "," + std::to_string(i < m.rss_bytes.size() ? m.rss_bytes[i] : -1);
    out += "\n";
  }
  return out;
}

}  // namespace laneway::ladder
