// gateway_overhead: what the laneway gateway adds to a request, measured against a fast
// in-process node. For each concurrency C it alternates runs straight to the node (A) and through
// a spawned `laneway gateway` (B), A B A B for --pairs pairs, and reports per-pair medians of
// latency percentiles, the added latency (B minus A within each pair), and throughput. Then the
// SSE first-event delay (direct vs gateway) and an inter-event check: with a 20 ms node-side gap,
// events must reach the client one by one, ~20 ms apart. Client, gateway and node share the
// machine's cores. Exits non-zero when the gateway cannot start or any request fails.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/bench/gateway/bench_upstream.hpp"
#include "tests/bench/gateway/gateway_process.hpp"
#include "tests/bench/gateway/load_client.hpp"
#include "tests/bench/gateway/stats.hpp"

namespace laneway::bench {
namespace {

struct bench_options {
  std::string laneway;
  std::vector<int> concurrency{1, 16, 64};
  int requests = 4000;
  int warmup = 400;
  int pairs = 3;
  int client_threads = 1;
  int io_threads = 0;  // 0: the gateway's default
  std::string log_level = "warn";
  std::string model = "bench";  // another name makes the gateway answer 404: checks the failure path
  int sse_requests = 300;
  int sse_events = 8;
  int gap_ms = 20;
  int gap_events = 10;
  int gap_requests = 5;
  int ready_timeout_ms = 10000;
  bool json = false;
};

constexpr const char* usage =
    "usage: gateway_overhead [--laneway PATH] [--concurrency 1,16,64] [--requests N] [--warmup N] [--pairs N]\n"
    "         [--client-threads N] [--io-threads N] [--gateway-log-level warn|info] [--sse-requests N]\n"
    "         [--sse-events N] [--gap-ms MS] [--gap-events N] [--gap-requests N] [--model NAME] [--json]\n"
    "  --laneway defaults to $LANEWAY_BIN, else ../../../tools/cli/laneway next to this binary.\n";

std::string default_laneway() {
  if (const char* env = std::getenv("LANEWAY_BIN"); env && *env) return env;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "laneway";
  return (self.parent_path() / "../../../tools/cli/laneway").lexically_normal().string();
}

bool parse_int(const std::string& text, int& out) {
  try {
    std::size_t used = 0;
    int v = std::stoi(text, &used);
    if (used != text.size() || v < 0) return false;
    out = v;
    return true;
  } catch (...) {
    return false;
  }
}

bool parse_args(int argc, char** argv, bench_options& o, std::string& why) {
  o.laneway = default_laneway();
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--json") {
      o.json = true;
      continue;
    }
    if (flag == "-h" || flag == "--help") {
      why = "";
      return false;
    }
    if (i + 1 >= argc) {
      why = flag + " needs a value";
      return false;
    }
    std::string value = argv[++i];
    int* number = flag == "--requests"            ? &o.requests
                  : flag == "--warmup"            ? &o.warmup
                  : flag == "--pairs"             ? &o.pairs
                  : flag == "--client-threads"    ? &o.client_threads
                  : flag == "--io-threads"        ? &o.io_threads
                  : flag == "--sse-requests"      ? &o.sse_requests
                  : flag == "--sse-events"        ? &o.sse_events
                  : flag == "--gap-ms"            ? &o.gap_ms
                  : flag == "--gap-events"        ? &o.gap_events
                  : flag == "--gap-requests"      ? &o.gap_requests
                  : flag == "--ready-timeout-ms"  ? &o.ready_timeout_ms
                                                  : nullptr;
    if (number) {
      if (!parse_int(value, *number)) {
        why = flag + ": not a non-negative integer: " + value;
        return false;
      }
    } else if (flag == "--laneway") {
      o.laneway = value;
    } else if (flag == "--model") {
      o.model = value;
    } else if (flag == "--gateway-log-level") {
      o.log_level = value;
    } else if (flag == "--concurrency") {
      o.concurrency.clear();
      std::size_t start = 0;
      while (start <= value.size()) {
        auto comma = value.find(',', start);
        std::string item = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        int c = 0;
        if (!parse_int(item, c) || c == 0) {
          why = "--concurrency: bad list " + value;
          return false;
        }
        o.concurrency.push_back(c);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else {
      why = "unknown flag " + flag;
      return false;
    }
  }
  if (o.pairs < 1 || o.requests < 1) {
    why = "--pairs and --requests must be at least 1";
    return false;
  }
  return true;
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

// Failures seen anywhere; the exit status.
struct failures {
  std::size_t direct = 0, gateway = 0;
  void note(const char* side, std::size_t count, const std::string& first, std::size_t& into) {
    if (count == 0) return;
    into += count;
    std::fprintf(stderr, "gateway_overhead: %zu failed %s request(s); first: %s\n", count, side, first.c_str());
  }
};

void plain_rows(const bench_options& o, const http_target& direct, const http_target& gateway, const gateway_process& gw,
                failures& fail) {
  std::printf("\nplain chat completions, closed loop (%d measured + %d warm-up requests per run, %d pair(s) A=direct B=gateway)\n",
              o.requests, o.warmup, o.pairs);
  std::printf("%5s | %9s %9s | %9s %9s | %9s %9s | %9s %9s %6s | %10s | %s\n", "conc", "direct50", "direct99", "gw50",
              "gw99", "added50", "added99", "rps_dir", "rps_gw", "ratio", "gw_cpu/req", "added50 per pair");
  for (int c : o.concurrency) {
    std::vector<double> d50, d95, d99, g50, g95, g99, a50, a99, rd, rg, ratio, cpu;
    closed_loop_options run{c, o.warmup, o.requests, o.client_threads, o.model};
    for (int p = 0; p < o.pairs; ++p) {
      auto a = run_closed_loop(direct, run);
      fail.note("direct", a.errors, a.first_error, fail.direct);
      double cpu_before = gw.cpu_seconds();
      auto b = run_closed_loop(gateway, run);
      // Gateway CPU (user + system, all threads) per request, warm-up included; 10 ms ticks.
      cpu.push_back((gw.cpu_seconds() - cpu_before) * 1e6 / (o.warmup + o.requests));
      fail.note("gateway", b.errors, b.first_error, fail.gateway);
      auto sa = summarize(a.latency_us), sb = summarize(b.latency_us);
      d50.push_back(sa.p50), d99.push_back(sa.p99), g50.push_back(sb.p50), g99.push_back(sb.p99);
      d95.push_back(sa.p95), g95.push_back(sb.p95);
      a50.push_back(sb.p50 - sa.p50), a99.push_back(sb.p99 - sa.p99);
      rd.push_back(a.requests_per_second()), rg.push_back(b.requests_per_second());
      ratio.push_back(rd.back() > 0 ? rg.back() / rd.back() : 0);
    }
    std::string per_pair;
    for (double v : a50) per_pair += (per_pair.empty() ? "" : " ") + std::to_string(static_cast<int>(v));
    std::printf("%5d | %9.0f %9.0f | %9.0f %9.0f | %9.0f %9.0f | %9.0f %9.0f %5.0f%% | %8.0fus | %s\n", c, median(d50),
                median(d99), median(g50), median(g99), median(a50), median(a99), median(rd), median(rg),
                100 * median(ratio), median(cpu), per_pair.c_str());
    if (o.json) {
      nlohmann::json row = {{"kind", "plain"},          {"concurrency", c},           {"pairs", o.pairs},
                            {"samples_per_run", o.requests}, {"direct_p50_us", median(d50)}, {"direct_p99_us", median(d99)},
                            {"gateway_p50_us", median(g50)}, {"gateway_p99_us", median(g99)},
                            {"direct_p95_us", median(d95)},  {"gateway_p95_us", median(g95)},
                            {"added_p50_us", median(a50)},   {"added_p99_us", median(a99)},
                            {"added_p50_us_per_pair", a50},  {"added_p99_us_per_pair", a99},
                            {"direct_rps", median(rd)},      {"gateway_rps", median(rg)},
                            {"rps_ratio", median(ratio)},    {"gateway_cpu_us_per_request", median(cpu)}};
      std::printf("%s\n", row.dump().c_str());
    }
    std::fflush(stdout);
  }
}

void sse_first_event_row(const bench_options& o, const http_target& direct, const http_target& gateway, failures& fail) {
  std::printf("\nSSE first event (request written -> first event read; %d streams of %d events per run, concurrency 1, no gap)\n",
              o.sse_requests, o.sse_events);
  std::printf("%9s %9s | %9s %9s | %9s %9s\n", "direct50", "direct99", "gw50", "gw99", "added50", "added99");
  std::vector<double> d50, d99, g50, g99, a50, a99;
  sse_options run{o.sse_requests, std::max(1, o.sse_requests / 10), o.sse_events, 0};
  for (int p = 0; p < o.pairs; ++p) {
    auto a = run_sse(direct, run);
    fail.note("direct SSE", a.errors, a.first_error, fail.direct);
    auto b = run_sse(gateway, run);
    fail.note("gateway SSE", b.errors, b.first_error, fail.gateway);
    auto sa = summarize(a.first_event_us), sb = summarize(b.first_event_us);
    d50.push_back(sa.p50), d99.push_back(sa.p99), g50.push_back(sb.p50), g99.push_back(sb.p99);
    a50.push_back(sb.p50 - sa.p50), a99.push_back(sb.p99 - sa.p99);
  }
  std::printf("%9.0f %9.0f | %9.0f %9.0f | %9.0f %9.0f\n", median(d50), median(d99), median(g50), median(g99),
              median(a50), median(a99));
  if (o.json) {
    nlohmann::json row = {{"kind", "sse_first_event"},   {"streams_per_run", o.sse_requests}, {"pairs", o.pairs},
                          {"direct_p50_us", median(d50)}, {"direct_p99_us", median(d99)},
                          {"gateway_p50_us", median(g50)}, {"gateway_p99_us", median(g99)},
                          {"added_p50_us", median(a50)},   {"added_p99_us", median(a99)}};
    std::printf("%s\n", row.dump().c_str());
  }
  std::fflush(stdout);
}

void sse_gap_rows(const bench_options& o, const http_target& direct, const http_target& gateway, failures& fail) {
  std::printf("\nSSE inter-event relay (node sends %d events %d ms apart; %d stream(s); gap = client-side arrival gap)\n",
              o.gap_events, o.gap_ms, o.gap_requests);
  std::printf("%8s | %9s %9s %9s %9s | %7s %7s | %s\n", "path", "gap50ms", "gap99ms", "min_ms", "max_ms", "events",
              "bunched", "verdict");
  sse_options run{o.gap_requests, 1, o.gap_events, o.gap_ms};
  for (const auto* side : {"direct", "gateway"}) {
    bool through = std::string(side) == "gateway";
    auto r = run_sse(through ? gateway : direct, run);
    fail.note(through ? "gateway SSE (gap)" : "direct SSE (gap)", r.errors, r.first_error,
              through ? fail.gateway : fail.direct);
    auto s = summarize(r.gap_us);
    // Bunched: arrived within a tenth of a gap of the previous event, i.e. held back and sent
    // with it. [DONE] follows the last event without a gap: one such gap per stream is expected.
    std::size_t bunched = 0;
    for (double g : r.gap_us) bunched += g < o.gap_ms * 100.0;
    std::size_t expected_bunched = static_cast<std::size_t>(o.gap_requests);
    double typical = s.p50 / 1000.0;
    bool one_by_one = !r.gap_us.empty() && bunched <= expected_bunched && typical > 0.75 * o.gap_ms &&
                      typical < 1.25 * o.gap_ms;
    std::printf("%8s | %9.2f %9.2f %9.2f %9.2f | %7zu %7zu | %s\n", side, s.p50 / 1000, s.p99 / 1000, s.min / 1000,
                s.max / 1000, r.events, bunched,
                one_by_one ? "one by one" : "NOT one by one (events bunched or delayed)");
    if (o.json) {
      nlohmann::json row = {{"kind", "sse_gap"},           {"path", side},          {"node_gap_ms", o.gap_ms},
                            {"gap_p50_ms", s.p50 / 1000},  {"gap_p99_ms", s.p99 / 1000}, {"gap_min_ms", s.min / 1000},
                            {"gap_max_ms", s.max / 1000},  {"events", r.events},    {"bunched", bunched},
                            {"one_by_one", one_by_one}};
      std::printf("%s\n", row.dump().c_str());
    }
  }
  std::fflush(stdout);
}

extern "C" void on_signal(int sig) {
  pid_t child = gateway_process::running_pid();
  if (child > 0) ::kill(child, SIGKILL);
  ::_exit(128 + sig);
}

int run(int argc, char** argv) {
  bench_options o;
  std::string why;
  if (!parse_args(argc, argv, o, why)) {
    if (!why.empty()) std::fprintf(stderr, "gateway_overhead: %s\n", why.c_str());
    std::fputs(usage, why.empty() ? stdout : stderr);
    return why.empty() ? 0 : 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGINT, on_signal);
  ::signal(SIGTERM, on_signal);

  bench_upstream node;
  std::vector<std::string> args{"gateway", "--listen", "127.0.0.1:0", "--node",
                                "http://127.0.0.1:" + std::to_string(node.port()), "--log-level", o.log_level};
  if (o.io_threads > 0) args.insert(args.end(), {"--io-threads", std::to_string(o.io_threads)});
  auto gw = gateway_process::start(o.laneway, args, o.ready_timeout_ms, why);
  if (!gw) {
    std::fprintf(stderr, "gateway_overhead: cannot start the gateway: %s\n", why.c_str());
    return 1;
  }
  http_target direct{"127.0.0.1", node.port()};
  http_target gateway{gw->host(), gw->port()};
  std::printf("gateway_overhead: node 127.0.0.1:%u (in-process, 1 thread), gateway %s:%u (%s, io-threads %s, log-level %s)\n",
              node.port(), gw->host().c_str(), gw->port(), o.laneway.c_str(),
              o.io_threads > 0 ? std::to_string(o.io_threads).c_str() : "default", o.log_level.c_str());
  std::printf("client: closed loop, %d thread(s), keep-alive; all three share this machine's %u cores; load avg %s\n",
              o.client_threads, std::thread::hardware_concurrency(), load_average().c_str());
  std::printf("latencies in microseconds, medians over pairs of per-run percentiles; added = gateway - direct within a pair\n");

  failures fail;
  plain_rows(o, direct, gateway, *gw, fail);
  sse_first_event_row(o, direct, gateway, fail);
  if (o.gap_requests > 0) sse_gap_rows(o, direct, gateway, fail);

  bool alive = gw->alive();
  std::printf("\nload avg at end %s; gateway stderr lines %zu\n", load_average().c_str(), gw->log_lines());
  gw->stop();
  if (!alive) {
    std::fprintf(stderr, "gateway_overhead: the gateway exited during the bench\n");
    return 1;
  }
  if (fail.gateway > 0 || fail.direct > 0) {
    std::fprintf(stderr, "gateway_overhead: FAILED: %zu gateway and %zu direct request failure(s)\n", fail.gateway,
                 fail.direct);
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace laneway::bench

int main(int argc, char** argv) {
  try {
    return laneway::bench::run(argc, argv);
  } catch (const std::exception& e) {  // start-up failures (bind); the gateway is killed by its owner
    std::fprintf(stderr, "gateway_overhead: %s\n", e.what());
    return 1;
  }
}
