// execute_run (see ladder_run.hpp). Each rung has its own single-threaded io_context, so the
// samples vector needs no lock; the memory sampler is the only other thread.
#include "tools/ladder/ladder_run.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>
#include <cstdio>
#include <exception>

namespace laneway::ladder {

namespace asio = boost::asio;

namespace {

double seconds(ladder_clock::duration d) { return std::chrono::duration<double>(d).count(); }

double live_p95_ttft(const std::vector<request_sample>& samples, std::size_t from, double since_s = -1) {
  std::vector<double> v;
  for (std::size_t i = from; i < samples.size(); ++i)
    if (samples[i].ok() && samples[i].ttft_s >= 0 && samples[i].start_s >= since_s) v.push_back(samples[i].ttft_s);
  return percentile(std::move(v), 95);
}

void print_progress(const run_options& o, int concurrency, ladder_clock::time_point start,
                    const std::vector<request_sample>& samples, std::size_t first, bool draining,
                    const memory_sampler& mem) {
  double elapsed = seconds(ladder_clock::now() - start);
  std::size_t done = samples.size() - first, errors = 0;
  for (std::size_t i = first; i < samples.size(); ++i) errors += samples[i].ok() ? 0 : 1;
  std::string extra;
  char b[160];
  if (o.window.count() > 0) {
    double w = std::chrono::duration<double>(o.window).count();
    double since = std::floor(elapsed / w) * w;
    std::snprintf(b, sizeof b, "  window %.0fs p95 ttft %.1f ms", since, 1000 * live_p95_ttft(samples, first, since));
    extra += b;
  }
  auto m = mem.latest();
  if (m.t_s >= 0 && m.available_bytes >= 0) {
    std::snprintf(b, sizeof b, "  avail %.2f GB", static_cast<double>(m.available_bytes) / 1e9);
    extra += b;
  }
  std::fprintf(stderr, "%s: c=%d %5.1fs/%.1fs  %zu done  %zu errors  live p95 ttft %.1f ms%s%s\n", o.command.c_str(),
               concurrency, elapsed, std::chrono::duration<double>(o.duration).count(), done, errors,
               1000 * live_p95_ttft(samples, first), extra.c_str(), draining ? " (draining)" : "");
}

// Runs one rung; appends its samples and returns the rung's wall time in seconds.
double run_rung(const run_options& o, int concurrency, std::vector<request_sample>& samples,
                const memory_sampler& mem) {
  asio::io_context io;
  std::size_t first = samples.size();
  auto start = ladder_clock::now();
  auto stop_at = start + o.duration;
  int live = concurrency;
  auto last_end = start;
  asio::steady_timer tick(io);  // the progress ticker's; cancelled when the last client ends
  for (int c = 0; c < concurrency; ++c) {
    asio::co_spawn(io, run_client(o.target, *o.mix, concurrency, c, start, stop_at, samples),
                   [&, c](std::exception_ptr e) {
                     if (e) {
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& ex) {
                         std::fprintf(stderr, "%s: client %d stopped: %s\n", o.command.c_str(), c, ex.what());
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
      print_progress(o, concurrency, start, samples, first, ladder_clock::now() > stop_at, mem);
    }
  }, asio::detached);
  io.run();
  return seconds(last_end - start);
}

}  // namespace

run_result execute_run(const run_options& o) {
  run_result r;
  memory_sampler mem(o.pids, std::chrono::seconds(1));
  auto run_start = ladder_clock::now();
  mem.start();
  if (o.ab_pairs > 0) {
    std::fprintf(stderr, "%s: transport A/B, %d pairs of keep-alive / Connection: close%s\n", o.command.c_str(),
                 o.ab_pairs, o.target.tls ? " (TLS)" : "");
    r.ab = run_transport_ab(o.target, *o.mix, o.ab_pairs);
  }
  for (std::size_t i = 0; i < o.levels.size(); ++i) {
    int c = o.levels[i];
    r.rung_start_s.push_back(seconds(ladder_clock::now() - run_start));
    double wall = run_rung(o, c, r.samples, mem);
    r.rungs.push_back(summarize(c, wall, r.samples));
    r.knee_reason = knee_reason(r.rungs.back(), o.gates, o.knee);
    if (!r.knee_reason.empty() && i + 1 < o.levels.size()) {
      r.skipped.assign(o.levels.begin() + static_cast<long>(i) + 1, o.levels.end());
      std::fprintf(stderr, "%s: stopping at the knee (%s); %zu rung(s) skipped\n", o.command.c_str(),
                   r.knee_reason.c_str(), r.skipped.size());
      break;
    }
  }
  mem.stop();
  r.memory = mem.series();
  for (const auto& m : r.memory)
    if (m.available_bytes >= 0 && (r.min_available_bytes < 0 || m.available_bytes < r.min_available_bytes))
      r.min_available_bytes = m.available_bytes;
  return r;
}

}  // namespace laneway::ladder
