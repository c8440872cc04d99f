// run_transport_ab / summarize_ab (see transport_ab.hpp). One unmeasured request warms the
// keep-alive connection (and the server) before the pairs start.
#include "tools/ladder/transport_ab.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

#include "tools/ladder/ladder_connection.hpp"

namespace laneway::ladder {

namespace asio = boost::asio;

transport_ab summarize_ab(const std::vector<double>& keep_alive_s, const std::vector<double>& close_s,
                          const std::vector<double>& setup_s) {
  transport_ab r;
  r.pairs = static_cast<int>(std::min(keep_alive_s.size(), close_s.size()));
  r.keep_alive_s = percentiles_of(keep_alive_s);
  r.close_s = percentiles_of(close_s);
  r.setup_s = percentiles_of(setup_s);
  if (r.keep_alive_s.n > 0 && r.close_s.n > 0) {
    r.tax_p50_s = r.close_s.p50 - r.keep_alive_s.p50;
    r.tax_p95_s = r.close_s.p95 - r.keep_alive_s.p95;
  }
  return r;
}

namespace {

const mix_entry& short_entry(const prompt_mix& mix) {
  for (const auto& e : mix.entries)
    if (e.short_prompt) return e;
  return mix.entries.front();
}

struct ab_state {
  std::vector<double> keep, close, setup;
  std::size_t errors = 0;
  std::string example;
  void failed(const request_sample& s) {
    ++errors;
    if (example.empty()) example = s.error_class + (s.error_detail.empty() ? "" : ": " + s.error_detail);
  }
};

asio::awaitable<void> ab_loop(const ladder_target& target, const mix_entry& entry, int pairs, ab_state& st) {
  auto ex = co_await asio::this_coro::executor;
  std::string body = request_body(entry, target.model, 1, target.stream);
  ladder_connection warm(ex, target);
  for (int i = -1; i < pairs; ++i) {  // i = -1: the unmeasured warm-up
    request_sample a;
    if (!warm.is_open() || warm.dead()) {
      std::string detail;
      if (auto failed = co_await warm.open(&detail); !failed.empty()) {
        a.error_class = failed;
        a.error_detail = detail;
      }
    }
    if (a.error_class.empty()) co_await warm.exchange(body, target.stream, true, a);
    if (i >= 0) a.ok() ? st.keep.push_back(a.e2e_s) : st.failed(a);
    if (i < 0) continue;
    request_sample b;
    ladder_connection fresh(ex, target);
    std::string detail;
    if (auto failed = co_await fresh.open(&detail); !failed.empty()) {
      b.error_class = failed;
      b.error_detail = detail;
      st.failed(b);
      continue;
    }
    co_await fresh.exchange(body, target.stream, false, b);
    fresh.close();
    if (!b.ok()) {
      st.failed(b);
      continue;
    }
    st.close.push_back(fresh.setup_s() + b.e2e_s);
    st.setup.push_back(fresh.setup_s());
  }
  warm.close();
}

}  // namespace

transport_ab run_transport_ab(const ladder_target& target, const prompt_mix& mix, int pairs) {
  asio::io_context io;
  ab_state st;
  const auto& entry = short_entry(mix);
  asio::co_spawn(io, ab_loop(target, entry, pairs, st), asio::detached);
  io.run();
  auto r = summarize_ab(st.keep, st.close, st.setup);
  r.pairs = pairs;
  r.kind = entry.kind;
  r.tls = static_cast<bool>(target.tls);
  r.errors = st.errors;
  r.error_example = st.example;
  return r;
}

}  // namespace laneway::ladder
