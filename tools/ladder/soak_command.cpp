// `laneway soak`: the ladder's machinery at one concurrency for a long window; the report adds
// per-window p95 TTFT and error rate (windows_of) so drift over the run is visible.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "gateway/http/duration.hpp"
#include "tools/ladder/ladder_command.hpp"
#include "tools/ladder/ladder_flags.hpp"

namespace laneway::ladder {

int soak_command(int argc, char** argv) {
  CLI::App app{"soak: closed-loop load from the prompt mix at one concurrency for a long window, with per-window "
               "p95 TTFT and error rate, memory over time and the ladder's gates and report", "laneway soak"};
  common_flags f;
  f.levels = "4";
  f.duration = "600s";
  std::string window = "60s";
  add_common_flags(app, f);
  app.add_option("--concurrency", f.levels, "clients (one number)")->capture_default_str();
  app.add_option("--duration", f.duration, "how long the soak sends new requests")->capture_default_str();
  app.add_option("--window", window, "length of the drift windows in the report")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  run_options opts;
  run_report report;
  if (int stop = prepare_run("soak", f, opts, report); stop >= 0) return stop;
  std::string why;
  auto levels = parse_int_list(f.levels, "--concurrency", 1, 4096, &why);
  auto w = http::parse_duration(window, &why);
  if (!levels || levels->size() != 1 || !w || w->count() <= 0) {
    std::fprintf(stderr, "laneway soak: %s\n",
                 !levels || !w ? why.c_str() : levels->size() != 1 ? "--concurrency takes one number" : "--window must be > 0");
    return 2;
  }
  opts.levels = *levels;
  opts.knee.enabled = false;
  opts.window = *w;
  report.info.window_s = std::chrono::duration<double>(*w).count();
  std::fprintf(stderr, "soak: %s, %d clients for %s, windows of %s\n", f.mix.summary().c_str(), levels->front(),
               f.duration.c_str(), window.c_str());
  report.result = execute_run(opts);
  const auto& rungs = report.result.rungs;
  report.windows = windows_of(report.result.samples, report.info.window_s, rungs.empty() ? 0 : rungs.front().wall_s);
  return finish_run(f, report);
}

}  // namespace laneway::ladder
