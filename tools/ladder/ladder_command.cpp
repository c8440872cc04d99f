// `laneway ladder`: flags, one io_context per rung running C closed-loop clients plus a progress
// ticker on stderr, then the table (or --json) on stdout and the CSV + JSON files under --out.
#include "tools/ladder/ladder_command.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "gateway/http/duration.hpp"
#include "tools/ladder/ladder_client.hpp"
#include "tools/ladder/ladder_report.hpp"

namespace laneway::ladder {

namespace asio = boost::asio;

namespace {

std::optional<std::vector<int>> parse_levels(const std::string& text, std::string* why) {
  std::vector<int> levels;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    int v = 0;
    try {
      std::size_t used = 0;
      v = std::stoi(item, &used);
      if (used != item.size()) v = 0;
    } catch (const std::exception&) {
      v = 0;
    }
    if (v < 1 || v > 4096) {
      *why = "--concurrency: '" + item + "' is not a whole number from 1 to 4096 (expected e.g. 1,2,4)";
      return std::nullopt;
    }
    levels.push_back(v);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return levels;
}

double live_p95_ttft(const std::vector<request_sample>& samples, std::size_t from) {
  std::vector<double> v;
  for (std::size_t i = from; i < samples.size(); ++i)
    if (samples[i].ok() && samples[i].ttft_s >= 0) v.push_back(samples[i].ttft_s);
  return percentile(std::move(v), 95);
}

// Runs one rung; appends its samples and returns the rung's wall time in seconds.
double run_rung(const ladder_target& target, int concurrency, std::chrono::milliseconds duration,
                std::vector<request_sample>& samples) {
  asio::io_context io;
  std::size_t first = samples.size();
  auto start = ladder_clock::now();
  auto stop_at = start + duration;
  int live = concurrency;
  auto last_end = start;
  asio::steady_timer tick(io);  // the progress ticker's; cancelled when the last client ends
  for (int c = 0; c < concurrency; ++c) {
    asio::co_spawn(io, run_client(target, builtin_mix(), concurrency, c, start, stop_at, samples),
                   [&, c](std::exception_ptr e) {
                     if (e) {
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& ex) {
                         std::fprintf(stderr, "ladder: client %d stopped: %s\n", c, ex.what());
                       }
                     }
                     last_end = ladder_clock::now();
                     if (--live == 0) tick.cancel();
                   });
  }
  // Progress every second until every client has ended (each is bounded by stop_at + request timeout).
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    while (live > 0) {
      tick.expires_after(std::chrono::seconds(1));
      co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
      if (live == 0) break;
      std::size_t done = samples.size() - first, errors = 0;
      for (std::size_t i = first; i < samples.size(); ++i) errors += samples[i].ok() ? 0 : 1;
      std::fprintf(stderr, "ladder: c=%d %5.1fs/%.1fs  %zu done  %zu errors  live p95 ttft %.1f ms%s\n",
                   concurrency, std::chrono::duration<double>(ladder_clock::now() - start).count(),
                   std::chrono::duration<double>(duration).count(), done, errors,
                   1000 * live_p95_ttft(samples, first), live > 0 && ladder_clock::now() > stop_at ? " (draining)" : "");
    }
  }, asio::detached);
  io.run();
  return std::chrono::duration<double>(last_end - start).count();
}

bool write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  return static_cast<bool>(f);
}

}  // namespace

int ladder_command(int argc, char** argv) {
  CLI::App app{"load ladder: for each concurrency, C clients each send the next request from the built-in prompt "
               "mix when their last ended; prints TTFT, inter-chunk gap and e2e percentiles, tokens/s, errors and "
               "PASS/FAIL gates", "laneway ladder"};
  std::string url_text, levels_text = "1,2,4", duration_text = "10s", timeout_text = "60s", out_dir;
  std::string gate_ttft = "1.2s", gate_gap = "120ms";
  bool json = false;
  ladder_target target;
  gate_thresholds gates_cfg;
  app.add_option("--url", url_text, "server base URL, e.g. http://127.0.0.1:8080 (http only)")->required();
  app.add_option("--model", target.model, "model name sent in each request")->required();
  app.add_option("--key", target.key, "API key, sent as Authorization: Bearer");
  app.add_option("--concurrency", levels_text, "rungs: comma-separated client counts")->capture_default_str();
  app.add_option("--duration", duration_text, "how long each rung sends new requests")->capture_default_str();
  app.add_flag("--stream", target.stream, "stream (SSE): TTFT is the first content delta; gaps are measured");
  app.add_option("--max-tokens", target.max_tokens, "max_tokens per request (agent calls cap at 16)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  app.add_option("--timeout", timeout_text, "per-request limit; past it the request counts as a timeout")
      ->capture_default_str();
  app.add_option("--out", out_dir, "write ladder_requests.csv and ladder_summary.json here");
  app.add_flag("--json", json, "print the JSON summary instead of the table");
  app.add_option("--gate-short-ttft-p95", gate_ttft, "gate: short-prompt p95 TTFT at most")->capture_default_str();
  app.add_option("--gate-gap-p95", gate_gap, "gate: p95 inter-chunk gap at most")->capture_default_str();
  app.add_option("--gate-error-rate", gates_cfg.error_rate, "gate: errors+timeouts fraction at most")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--gate-doubling-rise", gates_cfg.doubling_ttft_rise,
                 "gate: p95 TTFT rise when concurrency doubles at most (0.15 = 15%)")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  std::string why;
  auto url = gateway::parse_node_url(url_text, &why);
  auto levels = parse_levels(levels_text, &why);
  auto duration = http::parse_duration(duration_text, &why);
  auto timeout = http::parse_duration(timeout_text, &why);
  auto ttft = http::parse_duration(gate_ttft, &why);
  auto gap = http::parse_duration(gate_gap, &why);
  if (!url || !levels || !duration || !timeout || !ttft || !gap || duration->count() <= 0 || timeout->count() <= 0) {
    std::fprintf(stderr, "laneway ladder: %s\n", why.empty() ? "--duration and --timeout must be > 0" : why.c_str());
    return 2;
  }
  target.url = *url;
  target.request_timeout = *timeout;
  gates_cfg.short_ttft_p95_s = std::chrono::duration<double>(*ttft).count();
  gates_cfg.gap_p95_s = std::chrono::duration<double>(*gap).count();

  std::fprintf(stderr, "ladder: %s, rungs %s, %s each\n", builtin_mix().summary().c_str(), levels_text.c_str(),
               duration_text.c_str());
  std::vector<request_sample> samples;
  std::vector<rung_summary> rungs;
  for (int c : *levels) {
    double wall = run_rung(target, c, *duration, samples);
    rungs.push_back(summarize(c, wall, samples));
  }
  auto gates = evaluate_gates(rungs, gates_cfg, target.stream);
  run_info info{url->text(), target.model, LANEWAY_VERSION, target.stream, target.max_tokens,
                std::chrono::duration<double>(*duration).count(), std::chrono::duration<double>(*timeout).count()};
  std::string summary = summary_json(info, rungs, gates);
  if (json) {
    std::fputs(summary.c_str(), stdout);
  } else {
    print_table(info, rungs, gates);
  }
  if (!out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    auto dir = std::filesystem::path(out_dir);
    if (ec || !write_file(dir / "ladder_requests.csv", requests_csv(samples)) ||
        !write_file(dir / "ladder_summary.json", summary)) {
      std::fprintf(stderr, "laneway ladder: cannot write to %s%s%s\n", out_dir.c_str(), ec ? ": " : "",
                   ec ? ec.message().c_str() : "");
      return 3;
    }
    std::fprintf(stderr, "ladder: wrote %s and %s\n", (dir / "ladder_requests.csv").c_str(),
                 (dir / "ladder_summary.json").c_str());
  }
  return all_passed(gates) ? 0 : 1;
}

}  // namespace laneway::ladder
