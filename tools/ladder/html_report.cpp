// render_html (see html_report.hpp): sections in the order a reader asks — what ran, did it
// pass, how it scaled, what the connection costs, what it costs in money, how memory held.
#include "tools/ladder/html_report.hpp"

#include <algorithm>
#include <cstdio>

#include "tools/ladder/svg_plot.hpp"

namespace laneway::ladder {

namespace {

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string ms(double s) { return fmt("%.1f", 1000 * s); }

std::string row(std::initializer_list<std::string> cells, bool head = false) {
  std::string out = "<tr>";
  for (const auto& c : cells) out += (head ? "<th>" : "<td>") + c + (head ? "</th>" : "</td>");
  return out + "</tr>\n";
}

std::string pct3(const percentiles& p) {
  return p.n == 0 ? "-" : ms(p.p50) + " / " + ms(p.p95) + " / " + ms(p.p99);
}

std::string stamp_section(const run_report& r) {
  const auto& i = r.info;
  auto e = [](const std::string& s) { return html_escape(s.empty() ? "-" : s); };
  std::string pids;
  for (int p : i.pids) pids += (pids.empty() ? "" : ", ") + std::to_string(p);
  std::string s = "<h2>Run</h2>\n<table class=\"kv\">\n";
  s += row({"laneway version", e(i.version)});
  s += row({"command", e("laneway " + i.command)});
  s += row({"date (UTC)", e(i.date_utc)});
  s += row({"server URL", e(i.url)});
  s += row({"model", e(i.model)});
  s += row({"model file", e(i.model_file)});
  s += row({"model SHA-256", "<code>" + e(i.model_digest) + "</code>"});
  std::string server = e(i.server_model_digest);
  if (!i.server_model_digest.empty() && !i.model_digest.empty() && i.server_model_digest != i.model_digest)
    server += " <b>(not the model file's)</b>";
  s += row({"model digest reported by the server", "<code>" + server + "</code>"});
  s += row({"config file", e(i.config_file)});
  s += row({"config SHA-256", "<code>" + e(i.config_digest) + "</code>"});
  s += row({"prompt mix", e(r.mix->label() + " (" + r.mix->source + ")")});
  s += row({"mix SHA-256", "<code>" + e(i.mix_digest) + "</code>"});
  s += row({"stream", i.stream ? "yes" : "no"});
  s += row({"max_tokens", std::to_string(i.max_tokens)});
  s += row({"concurrency", e(i.concurrency)});
  s += row({"duration per rung", fmt("%.1f s", i.duration_s)});
  s += row({"request timeout", fmt("%.1f s", i.request_timeout_s)});
  s += row({"sampled pids", e(pids)});
  return s + "</table>\n";
}

std::string gates_section(const run_report& r) {
  std::string s = "<h2>Gates</h2>\n<table>\n" + row({"gate", "result", "measured", "threshold", "detail"}, true);
  for (const auto& g : r.gates) {
    std::string v = verdict(g);
    s += row({"<code>" + html_escape(g.name) + "</code>", "<span class=\"" + v + "\">" + v + "</span>",
              g.evaluated ? gate_value(g, g.measured) : "-",
              std::string(g.at_least ? "&#8805; " : "&#8804; ") + gate_value(g, g.threshold), html_escape(g.detail)});
  }
  s += "</table>\n";
  const auto& res = r.result;
  if (!res.knee_reason.empty()) {
    std::string skipped;
    for (int c : res.skipped) skipped += (skipped.empty() ? "c=" : ", c=") + std::to_string(c);
    s += "<p class=\"knee\">Knee: " + html_escape(res.knee_reason) + "; " +
         (skipped.empty() ? std::string("it was the last rung.") : "skipped rungs " + skipped + ".") + "</p>\n";
  }
  return s;
}

std::string rungs_section(const run_report& r) {
  std::string s = "<h2>Rungs</h2>\n<table>\n" +
                  row({"concurrency", "requests", "errors", "tokens/s", "TTFT ms p50/p95/p99", "short TTFT ms",
                       "gap ms", "e2e ms", "errors by class"}, true);
  for (const auto& x : r.result.rungs) {
    std::string classes;
    for (const auto& [cls, n] : x.errors_by_class) {
      auto ex = x.error_examples.find(cls);
      classes += (classes.empty() ? "" : "; ") + html_escape(cls) + " " + std::to_string(n) +
                 (ex == x.error_examples.end() ? "" : " (" + html_escape(ex->second) + ")");
    }
    s += row({std::to_string(x.concurrency), std::to_string(x.requests),
              std::to_string(x.errors) + fmt(" (%.1f %%)", 100 * x.error_rate), fmt("%.1f", x.tokens_per_s),
              pct3(x.ttft), pct3(x.short_ttft), pct3(x.gap), pct3(x.e2e), classes.empty() ? "-" : classes});
  }
  return s + "</table>\n";
}

std::string ab_section(const transport_ab& ab) {
  if (ab.pairs == 0) return "";
  std::string s = "<h2>Transport A/B</h2>\n<p>The same short request (<code>" + html_escape(ab.kind) +
                  "</code>, max_tokens 1) " + std::to_string(ab.pairs) +
                  " times on a warm keep-alive connection and on a new connection each (Connection: close" +
                  (ab.tls ? ", new TLS handshake" : "") + "), alternating.</p>\n<table>\n" +
                  row({"", "p50 ms", "p95 ms", "n"}, true);
  auto line = [&](const char* name, const percentiles& p) {
    return row({name, ms(p.p50), ms(p.p95), std::to_string(p.n)});
  };
  s += line("keep-alive", ab.keep_alive_s);
  s += line("Connection: close", ab.close_s);
  s += line(ab.tls ? "connect + TLS handshake alone" : "connect alone", ab.setup_s);
  s += row({"<b>setup tax</b> (close &#8722; keep-alive)", ms(ab.tax_p50_s), ms(ab.tax_p95_s), ""});
  s += "</table>\n";
  if (ab.errors) s += "<p>" + std::to_string(ab.errors) + " errors, e.g. " + html_escape(ab.error_example) + "</p>\n";
  return s;
}

std::string economics_section(const economics& e) {
  if (!e.present) return "";
  std::string s = "<h2>Economics</h2>\n<table class=\"kv\">\n";
  s += row({"basis", html_escape(e.basis)});
  s += row({"hardware per hour", fmt("%.4f", e.hardware_per_hour)});
  s += row({"power per hour", fmt("%.4f", e.power_per_hour)});
  s += row({"cost per hour", "<b>" + fmt("%.4f", e.cost_per_hour) + "</b>"});
  s += row({"sustained throughput", fmt("%.1f tokens/s", e.tokens_per_s) + " (rung c=" + std::to_string(e.rung) +
                                        (e.rung_passed ? ", best rung that passed its gates)" : ", no rung passed its gates)")});
  s += row({"cost per million generated tokens",
            e.cost_per_million_tokens < 0 ? "- (no tokens)" : "<b>" + fmt("%.4f", e.cost_per_million_tokens) + "</b>"});
  return s + "</table>\n";
}

std::string plots_section(const run_report& r) {
  const auto& res = r.result;
  std::vector<plot_series> lat(5);
  lat[0].name = "TTFT p50";
  lat[1].name = "TTFT p95";
  lat[2].name = "TTFT p99";
  lat[3].name = "inter-chunk gap p95";
  lat[4].name = "e2e p95";
  for (const auto& x : res.rungs) {
    double c = x.concurrency;
    if (x.ttft.n) {
      lat[0].points.emplace_back(c, 1000 * x.ttft.p50);
      lat[1].points.emplace_back(c, 1000 * x.ttft.p95);
      lat[2].points.emplace_back(c, 1000 * x.ttft.p99);
    }
    if (x.gap.n) lat[3].points.emplace_back(c, 1000 * x.gap.p95);
    if (x.e2e.n) lat[4].points.emplace_back(c, 1000 * x.e2e.p95);
  }
  std::string s = "<h2>Plots</h2>\n<div class=\"plot\">" +
                  line_plot({"Latency percentiles per rung", "concurrency (clients)", "ms"}, lat) + "</div>\n";
  std::vector<plot_series> cdf;
  for (const auto& x : res.rungs) {
    std::vector<double> v;
    for (const auto& q : res.samples)
      if (q.concurrency == x.concurrency && q.ok() && q.ttft_s >= 0) v.push_back(1000 * q.ttft_s);
    std::sort(v.begin(), v.end());
    plot_series ps{"c=" + std::to_string(x.concurrency), {}};
    std::size_t step = std::max<std::size_t>(1, v.size() / 200);
    for (std::size_t i = 0; i < v.size(); i += step) ps.points.emplace_back(v[i], double(i + 1) / double(v.size()));
    if (!v.empty()) ps.points.emplace_back(v.back(), 1.0);
    cdf.push_back(std::move(ps));
  }
  s += "<div class=\"plot\">" + line_plot({"TTFT distribution (CDF)", "TTFT ms", "fraction of requests"}, cdf) + "</div>\n";
  std::vector<plot_series> mem(2);
  mem[0].name = "available GB";
  mem[1].name = "swap used GB";
  for (const auto& m : res.memory) {
    if (m.available_bytes >= 0) mem[0].points.emplace_back(m.t_s, double(m.available_bytes) / 1e9);
    if (m.swap_used_bytes >= 0) mem[1].points.emplace_back(m.t_s, double(m.swap_used_bytes) / 1e9);
  }
  s += "<div class=\"plot\">" + line_plot({"Machine memory over time", "seconds since start", "GB"}, mem) + "</div>\n";
  if (!r.info.pids.empty()) {
    std::vector<plot_series> rss;
    for (std::size_t p = 0; p < r.info.pids.size(); ++p) {
      plot_series ps{"pid " + std::to_string(r.info.pids[p]) + " RSS", {}};
      for (const auto& m : res.memory)
        if (p < m.rss_bytes.size() && m.rss_bytes[p] >= 0) ps.points.emplace_back(m.t_s, double(m.rss_bytes[p]) / 1e6);
      rss.push_back(std::move(ps));
    }
    s += "<div class=\"plot\">" + line_plot({"Server RSS over time", "seconds since start", "MB"}, rss) + "</div>\n";
  }
  return s;
}

std::string windows_section(const run_report& r) {
  if (r.windows.empty()) return "";
  std::vector<plot_series> p95(1), err(1);
  p95[0].name = "p95 TTFT ms";
  err[0].name = "error rate %";
  std::string t = "<table>\n" + row({"window start s", "requests", "error rate", "TTFT ms p50/p95/p99", "tokens/s"}, true);
  for (const auto& w : r.windows) {
    if (w.ttft.n) p95[0].points.emplace_back(w.start_s, 1000 * w.ttft.p95);
    err[0].points.emplace_back(w.start_s, 100 * w.error_rate);
    t += row({fmt("%.0f", w.start_s), std::to_string(w.requests), fmt("%.1f %%", 100 * w.error_rate), pct3(w.ttft),
              fmt("%.1f", w.tokens_per_s)});
  }
  std::string title = "per " + fmt("%.0f", r.info.window_s) + " s window";
  return "<h2>Soak windows</h2>\n<div class=\"plot\">" + line_plot({"p95 TTFT " + title, "window start s", "ms"}, p95) +
         "</div>\n<div class=\"plot\">" + line_plot({"error rate " + title, "window start s", "%"}, err) + "</div>\n" +
         t + "</table>\n";
}

std::string mix_section(const prompt_mix& mix) {
  std::string s = "<h2>Prompt mix " + html_escape(mix.label()) + "</h2>\n<p>" + html_escape(mix.description) +
                  "</p>\n<table>\n" + row({"kind", "share", "short prompt", "max_tokens cap", "first message"}, true);
  for (const auto& e : mix.entries) {
    std::string first = e.sent.empty() ? "" : e.sent.front().role + ": " + e.sent.front().content.substr(0, 160);
    s += row({html_escape(e.kind), std::to_string(e.weight) + "/" + std::to_string(mix.rotation.size()),
              e.short_prompt ? "yes" : "no", e.max_tokens ? std::to_string(e.max_tokens) : "-", html_escape(first)});
  }
  return s + "</table>\n";
}

const char* style =
    "body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}"
    "table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;"
    "text-align:left;font-size:13px}th{background:#f0f0f0}.kv td:first-child{font-weight:bold}"
    ".PASS{color:#176d17;font-weight:bold}.FAIL{color:#b00020;font-weight:bold}.SKIP{color:#777}"
    ".knee{background:#fff4e0;padding:6px}.plot{display:inline-block;margin:4px;border:1px solid #ddd}"
    "code{font-size:12px}";

}  // namespace

std::string render_html(const run_report& r) {
  std::string title = "laneway " + r.info.command + " report: " + r.info.model + " at " + r.info.url;
  std::string passed = all_passed(r.gates) ? "PASS" : "FAIL";
  std::string s = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>" +
                  html_escape(title) + "</title>\n<style>" + style + "</style>\n</head>\n<body>\n<h1>" +
                  html_escape(title) + " <span class=\"" + passed + "\">" + passed + "</span></h1>\n";
  s += stamp_section(r);
  s += gates_section(r);
  s += rungs_section(r);
  s += ab_section(r.result.ab);
  s += economics_section(r.costs);
  s += windows_section(r);
  s += plots_section(r);
  s += mix_section(*r.mix);
  s += "</body>\n</html>\n";
  return s;
}

}  // namespace laneway::ladder
