// `laneway ladder`: its own flags (rungs, knee) over the shared ones (ladder_flags.hpp), then
// execute_run and the outputs.
#include "tools/ladder/ladder_command.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "tools/ladder/ladder_flags.hpp"

namespace laneway::ladder {

int ladder_command(int argc, char** argv) {
  CLI::App app{"load ladder: for each concurrency, C clients each send the next request from the prompt mix when "
               "their last ended; prints TTFT, inter-chunk gap and e2e percentiles, tokens/s, errors, memory, "
               "transport A/B, economics and PASS/FAIL gates, and stops at the knee", "laneway ladder"};
  common_flags f;
  run_options opts;
  bool no_knee = false;
  add_common_flags(app, f);
  app.add_option("--concurrency", f.levels, "rungs: comma-separated client counts")->capture_default_str();
  app.add_option("--duration", f.duration, "how long each rung sends new requests")->capture_default_str();
  app.add_flag("--no-knee", no_knee, "run every rung even after one failed badly");
  app.add_option("--knee-error-rate", opts.knee.error_rate, "stop after a rung with a higher error rate")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--knee-ttft-factor", opts.knee.ttft_factor,
                 "stop after a rung whose short-prompt p95 TTFT exceeds this x --gate-short-ttft-p95")
      ->capture_default_str()->check(CLI::PositiveNumber);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  run_report report;
  if (int stop = prepare_run("ladder", f, opts, report); stop >= 0) return stop;
  std::string why;
  auto levels = parse_int_list(f.levels, "--concurrency", 1, 4096, &why);
  if (!levels) {
    std::fprintf(stderr, "laneway ladder: %s (expected e.g. 1,2,4)\n", why.c_str());
    return 2;
  }
  opts.levels = *levels;
  opts.knee.enabled = !no_knee;
  std::fprintf(stderr, "ladder: %s, rungs %s, %s each\n", f.mix.summary().c_str(), f.levels.c_str(),
               f.duration.c_str());
  report.result = execute_run(opts);
  return finish_run(f, report);
}

}  // namespace laneway::ladder
