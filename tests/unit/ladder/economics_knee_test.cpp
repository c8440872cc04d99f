// Economics arithmetic (rent, amortized purchase, power; per million tokens at the best passing
// rung), the knee decision, soak windows, the free-memory gate and the transport A/B summary.
#include <doctest/doctest.h>

#include "tools/ladder/economics.hpp"
#include "tools/ladder/knee.hpp"
#include "tools/ladder/transport_ab.hpp"

using namespace laneway::ladder;

namespace {

rung_summary rung(int c, double tokens_per_s, double error_rate, double short_p95) {
  rung_summary r;
  r.concurrency = c;
  r.requests = 100;
  r.error_rate = error_rate;
  r.tokens_per_s = tokens_per_s;
  r.short_ttft = {100, short_p95 / 2, short_p95, short_p95};
  r.ttft = r.short_ttft;
  return r;
}

}  // namespace

TEST_SUITE("ladder") {
  TEST_CASE("economics: rent + power, per hour and per million tokens") {
    cost_inputs in;
    in.rent_per_hour = 2.0;
    in.watts = 500;
    in.kwh_price = 0.30;
    CHECK(validate_costs(in).empty());
    auto e = compute_economics(in, 100.0, 4, true);
    CHECK(e.present);
    CHECK(e.basis == "rent + power");
    CHECK(e.power_per_hour == doctest::Approx(0.15));
    CHECK(e.cost_per_hour == doctest::Approx(2.15));
    // 100 tok/s = 360,000 tokens/h: 2.15 / 0.36 per million.
    CHECK(e.cost_per_million_tokens == doctest::Approx(2.15 / 0.36));
    CHECK(compute_economics(in, 0, 0, false).cost_per_million_tokens == -1);
  }

  TEST_CASE("economics: purchase amortized over months") {
    cost_inputs in;
    in.purchase_price = 7305;
    in.amortize_months = 10;  // 7305 h
    auto e = compute_economics(in, 50, 2, true);
    CHECK(e.basis == "purchase amortized over 10 months");
    CHECK(e.hardware_per_hour == doctest::Approx(1.0));
    CHECK(e.cost_per_million_tokens == doctest::Approx(1.0 / (50 * 3600.0) * 1e6));
    CHECK_FALSE(compute_economics(cost_inputs{}, 50, 2, true).present);
  }

  TEST_CASE("economics: flag combinations that make no sense are refused") {
    cost_inputs both;
    both.rent_per_hour = 1;
    both.purchase_price = 1;
    both.amortize_months = 1;
    CHECK(validate_costs(both) == "--rent-per-hour and --purchase-price exclude each other");
    cost_inputs no_months;
    no_months.purchase_price = 1000;
    CHECK(validate_costs(no_months) == "--purchase-price needs --amortize-months");
    cost_inputs watts_only;
    watts_only.watts = 100;
    CHECK(validate_costs(watts_only) == "--watts and --kwh-price go together");
    cost_inputs negative;
    negative.rent_per_hour = -1;
    CHECK_FALSE(validate_costs(negative).empty());
    cost_inputs zero_months;
    zero_months.purchase_price = 1;
    zero_months.amortize_months = 0;
    CHECK(validate_costs(zero_months) == "--amortize-months must be > 0");
  }

  TEST_CASE("economics: throughput of the best rung that passed, else the best rung") {
    gate_thresholds t;
    cost_inputs in;
    in.rent_per_hour = 1;
    std::vector<rung_summary> rungs = {rung(1, 40, 0, 0.2), rung(2, 70, 0, 0.5), rung(4, 90, 0, 2.0)};
    auto e = economics_for(in, rungs, t, false);
    CHECK(e.rung == 2);  // c=4 is faster but misses the 1.2 s TTFT gate
    CHECK(e.rung_passed);
    CHECK(e.tokens_per_s == 70);
    std::vector<rung_summary> failing = {rung(1, 40, 0.5, 0.2), rung(2, 60, 0.5, 0.2)};
    auto f = economics_for(in, failing, t, false);
    CHECK(f.rung == 2);
    CHECK_FALSE(f.rung_passed);
  }

  TEST_CASE("knee: error rate or p95 TTFT past k x the gate stops the ladder") {
    gate_thresholds g;  // 1.2 s
    knee_thresholds k;  // 10 %, 2x
    CHECK(knee_reason(rung(4, 10, 0.05, 2.0), g, k).empty());
    CHECK(knee_reason(rung(4, 10, 0.25, 0.1), g, k) == "c=4: error rate 25.0% > knee 10.0%");
    CHECK(knee_reason(rung(8, 10, 0, 3.0), g, k) == "c=8: p95 short-prompt TTFT 3000 ms > 2.0 x the 1200 ms gate");
    rung_summary no_short = rung(8, 10, 0, 0);
    no_short.short_ttft = {};
    no_short.ttft = {10, 2.0, 2.5, 2.6};
    CHECK(knee_reason(no_short, g, k) == "c=8: p95 TTFT 2500 ms > 2.0 x the 1200 ms gate");
    k.enabled = false;
    CHECK(knee_reason(rung(4, 10, 0.9, 9), g, k).empty());
    k.enabled = true;
    rung_summary empty;
    CHECK(knee_reason(empty, g, k).empty());
  }

  TEST_CASE("free memory gate: lowest available memory at least the threshold; SKIP without samples") {
    gate_thresholds t;
    std::vector<rung_summary> rungs = {rung(1, 10, 0, 0.1)};
    auto find = [](const std::vector<gate_result>& gs) {
      for (const auto& g : gs)
        if (g.name == "free_memory_bytes") return g;
      return gate_result{};
    };
    auto ok = find(evaluate_gates(rungs, t, false, 4'000'000'000LL));
    CHECK(ok.evaluated);
    CHECK(ok.pass);
    CHECK(ok.at_least);
    auto low = find(evaluate_gates(rungs, t, false, 2'000'000'000LL));
    CHECK_FALSE(low.pass);
    CHECK(low.measured == 2e9);
    CHECK_FALSE(find(evaluate_gates(rungs, t, false, -1)).evaluated);
    CHECK_FALSE(all_passed(evaluate_gates(rungs, t, false, 2'000'000'000LL)));
  }

  TEST_CASE("soak windows: requests by start time, per-window p95 TTFT and error rate") {
    std::vector<request_sample> v;
    for (int i = 0; i < 30; ++i) {
      request_sample s;
      s.start_s = i * 0.1;  // 0 .. 2.9 s
      s.ttft_s = i < 10 ? 0.1 : i < 20 ? 0.2 : 0.4;
      s.completion_tokens = 10;
      if (i == 25) s.error_class = "5xx";
      v.push_back(s);
    }
    auto w = windows_of(v, 1.0, 3.0);
    REQUIRE(w.size() == 3);
    CHECK(w[0].requests == 10);
    CHECK(w[0].ttft.p95 == doctest::Approx(0.1));
    CHECK(w[1].ttft.p95 == doctest::Approx(0.2));
    CHECK(w[2].ttft.p95 == doctest::Approx(0.4));
    CHECK(w[2].errors == 1);
    CHECK(w[2].error_rate == doctest::Approx(0.1));
    CHECK(w[1].tokens_per_s == doctest::Approx(100));
    CHECK(windows_of(v, 0, 3).empty());
    CHECK(windows_of(v, 10, 3).size() == 1);
  }

  TEST_CASE("transport A/B: setup tax is close minus keep-alive at p50 and p95") {
    std::vector<double> keep = {0.010, 0.011, 0.012, 0.013, 0.014};
    std::vector<double> close = {0.015, 0.016, 0.017, 0.018, 0.030};
    auto r = summarize_ab(keep, close, {0.004, 0.005, 0.005, 0.005, 0.006});
    CHECK(r.pairs == 5);
    CHECK(r.tax_p50_s == doctest::Approx(0.005));
    CHECK(r.tax_p95_s == doctest::Approx(r.close_s.p95 - r.keep_alive_s.p95));
    CHECK(r.setup_s.p50 == doctest::Approx(0.005));
    CHECK(summarize_ab({}, {}, {}).tax_p50_s == 0);
  }
}
