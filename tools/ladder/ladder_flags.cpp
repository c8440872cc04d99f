// add_common_flags / prepare_run / finish_run (see ladder_flags.hpp).
#include "tools/ladder/ladder_flags.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>

#include "gateway/http/config_error.hpp"
#include "gateway/http/config_reader.hpp"
#include "gateway/http/duration.hpp"
#include "tools/ladder/digest.hpp"
#include "tools/ladder/html_report.hpp"
#include "tools/ladder/mix_file.hpp"
#include "tools/ladder/server_model.hpp"
#include "tools/ladder/target_url.hpp"
#include "tools/ladder/tls_client.hpp"

namespace laneway::ladder {

std::optional<std::vector<int>> parse_int_list(const std::string& text, const char* flag, int min, int max,
                                               std::string* why) {
  std::vector<int> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    long v = min - 1L;
    try {
      std::size_t used = 0;
      v = std::stol(item, &used);
      if (used != item.size()) v = min - 1L;
    } catch (const std::exception&) {
    }
    if (v < min || v > max) {
      *why = std::string(flag) + ": '" + item + "' is not a whole number from " + std::to_string(min) + " to " +
             std::to_string(max);
      return std::nullopt;
    }
    out.push_back(static_cast<int>(v));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

void add_common_flags(CLI::App& app, common_flags& f) {
  auto& t = f.target;
  app.add_option("--url", f.url, "server base URL: http://host:port or https://host:port (with a path prefix)");
  app.add_option("--model", t.model, "model name sent in each request");
  app.add_option("--key", t.key, "API key, sent as Authorization: Bearer");
  app.add_flag("--stream", t.stream, "stream (SSE): TTFT is the first content delta; gaps are measured");
  app.add_option("--max-tokens", t.max_tokens, "max_tokens per request (a mix entry may cap it lower)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  app.add_option("--timeout", f.timeout, "per-request limit; past it the request counts as a timeout")
      ->capture_default_str();
  app.add_option("--mix", f.mix_file, "prompt mix TOML file (schema: docs/ladder.md); default: the built-in mix");
  app.add_flag("--print-mix", f.print_mix, "print the prompt mix's TOML and exit");
  app.add_option("--ca-file", f.ca_file, "https: trust these PEM CA certificates instead of the system store");
  app.add_flag("--insecure", f.insecure, "https: do not verify the server's certificate or host name");
  app.add_option("--ab", f.ab_pairs, "transport A/B pairs (keep-alive vs Connection: close) before the load; 0: skip")
      ->capture_default_str()->check(CLI::Range(0, 100000));
  app.add_option("--pid", f.pids, "local server process ids (comma-separated) whose RSS is sampled every second");
  app.add_option("--model-file", f.model_file, "the served model file: its SHA-256 stamps the report");
  app.add_option("--config", f.config_file, "the server's config file: its SHA-256 stamps the report");
  app.add_option("--out", f.out_dir, "write ladder_requests.csv, ladder_memory.csv, ladder_summary.json, "
                                     "report.html and mix.toml here");
  app.add_flag("--json", f.json, "print the JSON summary instead of the table");
  app.add_option("--gate-short-ttft-p95", f.gate_ttft, "gate: short-prompt p95 TTFT at most")->capture_default_str();
  app.add_option("--gate-gap-p95", f.gate_gap, "gate: p95 inter-chunk gap at most")->capture_default_str();
  app.add_option("--gate-error-rate", f.gates.error_rate, "gate: errors+timeouts fraction at most")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--gate-doubling-rise", f.gates.doubling_ttft_rise,
                 "gate: p95 TTFT rise when concurrency doubles at most (0.15 = 15%)")->capture_default_str();
  app.add_option("--gate-free-memory", f.gate_free_memory,
                 "gate: lowest available memory during the run at least (GB = 10^9 bytes, GiB = 2^30)")
      ->capture_default_str();
  auto money = [&](const char* name, std::optional<double>& v, const char* what) {
    app.add_option_function<double>(name, [&v](double x) { v = x; }, what);
  };
  money("--rent-per-hour", f.costs.rent_per_hour, "economics: hardware rent per hour (any currency)");
  money("--purchase-price", f.costs.purchase_price, "economics: hardware purchase price (with --amortize-months)");
  money("--amortize-months", f.costs.amortize_months, "economics: months the purchase price is spread over");
  money("--watts", f.costs.watts, "economics: average power draw in watts (with --kwh-price)");
  money("--kwh-price", f.costs.kwh_price, "economics: electricity price per kWh");
}

namespace {

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

bool write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  return static_cast<bool>(f);
}

int bad(const char* command, const std::string& why) {
  std::fprintf(stderr, "laneway %s: %s\n", command, why.c_str());
  return 2;
}

}  // namespace

int prepare_run(const char* command, common_flags& f, run_options& opts, run_report& report) {
  try {
    f.mix = f.mix_file.empty() ? builtin_mix() : load_mix_file(f.mix_file);
  } catch (const http::config_error& e) {
    return bad(command, e.what());
  }
  if (f.print_mix) {
    std::fputs(f.mix.toml_text.c_str(), stdout);
    return 0;
  }
  if (f.url.empty()) return bad(command, "--url is required");
  if (f.target.model.empty()) return bad(command, "--model is required");
  std::string why;
  auto url = parse_target_url(f.url, &why);
  if (!url) return bad(command, "--url: " + why);
  auto duration = http::parse_duration(f.duration, &why);
  auto timeout = http::parse_duration(f.timeout, &why);
  auto ttft = http::parse_duration(f.gate_ttft, &why);
  auto gap = http::parse_duration(f.gate_gap, &why);
  auto free_mem = http::parse_byte_size(f.gate_free_memory, &why);
  if (!duration || !timeout || !ttft || !gap) return bad(command, why);
  if (!free_mem) return bad(command, "--gate-free-memory: " + why);
  if (duration->count() <= 0 || timeout->count() <= 0) return bad(command, "--duration and --timeout must be > 0");
  std::vector<int> pids;
  if (!f.pids.empty()) {
    auto p = parse_int_list(f.pids, "--pid", 1, 1 << 30, &why);
    if (!p) return bad(command, why);
    pids = *p;
  }
  if (auto c = validate_costs(f.costs); !c.empty()) return bad(command, c);
  f.target.url = *url;
  f.target.request_timeout = *timeout;
  if (url->scheme == "https") {
    f.target.tls = make_client_tls_context({f.ca_file, f.insecure}, &why);
    if (!f.target.tls) return bad(command, why);
    f.target.verify_host = !f.insecure;
  } else if (!f.ca_file.empty() || f.insecure) {
    return bad(command, "--ca-file and --insecure need an https:// --url");
  }
  f.gates.short_ttft_p95_s = std::chrono::duration<double>(*ttft).count();
  f.gates.gap_p95_s = std::chrono::duration<double>(*gap).count();
  f.gates.free_memory_bytes = static_cast<double>(*free_mem);

  auto& info = report.info;
  info.command = command;
  info.url = f.url;
  info.model = f.target.model;
  info.version = LANEWAY_VERSION;
  info.date_utc = utc_now();
  info.stream = f.target.stream;
  info.max_tokens = f.target.max_tokens;
  info.duration_s = std::chrono::duration<double>(*duration).count();
  info.request_timeout_s = std::chrono::duration<double>(*timeout).count();
  info.concurrency = f.levels;
  info.pids = pids;
  info.mix_digest = sha256_hex(f.mix.toml_text);
  if (!f.model_file.empty()) {
    auto d = sha256_file(f.model_file, &why);
    if (!d) return bad(command, "--model-file: " + why);
    info.model_file = f.model_file;
    info.model_digest = *d;
  }
  if (!f.config_file.empty()) {
    auto d = sha256_file(f.config_file, &why);
    if (!d) return bad(command, "--config: " + why);
    info.config_file = f.config_file;
    info.config_digest = *d;
  }
  report.mix = &f.mix;
  opts.command = command;
  opts.target = f.target;
  opts.mix = &f.mix;
  opts.duration = *duration;
  opts.gates = f.gates;
  opts.pids = pids;
  opts.ab_pairs = f.ab_pairs;
  info.server_model_digest = fetch_server_model_digest(f.target);
  return -1;
}

int finish_run(const common_flags& f, run_report& report) {
  const auto& res = report.result;
  report.gates = evaluate_gates(res.rungs, f.gates, f.target.stream, res.min_available_bytes);
  report.costs = economics_for(f.costs, res.rungs, f.gates, f.target.stream);
  std::string summary = summary_json(report);
  if (f.json) {
    std::fputs(summary.c_str(), stdout);
  } else {
    print_table(report);
  }
  std::fflush(stdout);
  if (!f.out_dir.empty()) {
    const char* command = report.info.command.c_str();
    std::error_code ec;
    std::filesystem::create_directories(f.out_dir, ec);
    auto dir = std::filesystem::path(f.out_dir);
    const std::pair<const char*, std::string> files[] = {
        {"ladder_requests.csv", requests_csv(res.samples)},
        {"ladder_memory.csv", memory_csv(res.memory, report.info.pids)},
        {"ladder_summary.json", summary},
        {"report.html", render_html(report)},
        {"mix.toml", report.mix->toml_text},
    };
    for (const auto& [name, text] : files) {
      if (ec || !write_file(dir / name, text)) {
        std::fprintf(stderr, "laneway %s: cannot write %s%s%s\n", command, (dir / name).c_str(), ec ? ": " : "",
                     ec ? ec.message().c_str() : "");
        return 3;
      }
    }
    std::fprintf(stderr, "%s: wrote %s (report.html, ladder_summary.json, ladder_requests.csv, ladder_memory.csv, "
                 "mix.toml)\n", command, dir.c_str());
  }
  return all_passed(report.gates) ? 0 : 1;
}

}  // namespace laneway::ladder
