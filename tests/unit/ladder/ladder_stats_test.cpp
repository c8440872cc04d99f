// `laneway ladder` numbers: percentiles from raw samples (numpy's linear method), per-rung
// summaries (errors excluded from latency, tokens/s), the gates and the prompt mix rotation.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "tools/ladder/ladder_stats.hpp"
#include "tools/ladder/prompt_mix.hpp"

using namespace laneway::ladder;

namespace {

request_sample ok_sample(int c, double ttft, double e2e, bool short_prompt = true, std::vector<double> gaps = {}) {
  request_sample s;
  s.concurrency = c;
  s.kind = short_prompt ? "short_chat" : "long_summarise";
  s.short_prompt = short_prompt;
  s.status = 200;
  s.ttft_s = ttft;
  s.e2e_s = e2e;
  s.gaps_s = std::move(gaps);
  s.completion_tokens = 10;
  s.prompt_tokens = 5;
  return s;
}

rung_summary rung(int c, double ttft_p95, double gap_p95, double error_rate) {
  rung_summary r;
  r.concurrency = c;
  r.requests = 100;
  r.error_rate = error_rate;
  r.ttft = {100, ttft_p95 / 2, ttft_p95, ttft_p95};
  r.short_ttft = r.ttft;
  r.gap = {100, gap_p95 / 2, gap_p95, gap_p95};
  return r;
}

const gate_result& gate(const std::vector<gate_result>& gates, const std::string& name) {
  for (const auto& g : gates)
    if (g.name == name) return g;
  FAIL("no gate " << name);
  return gates.front();
}

}  // namespace

TEST_SUITE("ladder") {
  TEST_CASE("percentile: linear interpolation between closest ranks, order-independent") {
    struct row {
      std::vector<double> v;
      double p, want;
    };
    const std::vector<row> rows = {
        {{}, 50, 0},
        {{7}, 99, 7},
        {{1, 2, 3, 4}, 50, 2.5},
        {{4, 3, 2, 1}, 50, 2.5},
        {{1, 2, 3, 4, 5}, 95, 4.8},
        {{10, 20}, 0, 10},
        {{10, 20}, 100, 20},
        {{10, 20}, 150, 20},
    };
    for (const auto& r : rows) CHECK(percentile(r.v, r.p) == doctest::Approx(r.want));
    std::vector<double> hundred;
    for (int i = 1; i <= 100; ++i) hundred.push_back(i);
    auto p = percentiles_of(hundred);
    CHECK(p.n == 100);
    CHECK(p.p50 == doctest::Approx(50.5));
    CHECK(p.p95 == doctest::Approx(95.05));
    CHECK(p.p99 == doctest::Approx(99.01));
  }

  TEST_CASE("summarize: one rung's samples, errors counted but kept out of latency and tokens") {
    std::vector<request_sample> samples = {ok_sample(2, 0.1, 1.0, true, {0.01, 0.03}),
                                           ok_sample(2, 0.3, 2.0, false, {0.02}), ok_sample(4, 9, 9)};
    request_sample bad;
    bad.concurrency = 2;
    bad.status = 503;
    bad.error_class = "5xx";
    bad.e2e_s = 50;
    samples.push_back(bad);
    auto s = summarize(2, 4.0, samples);
    CHECK(s.requests == 3);
    CHECK(s.errors == 1);
    CHECK(s.error_rate == doctest::Approx(1.0 / 3));
    CHECK(s.errors_by_class == std::map<std::string, std::size_t>{{"5xx", 1}});
    CHECK(s.completion_tokens == 20);
    CHECK(s.tokens_per_s == doctest::Approx(5.0));
    CHECK(s.ttft.n == 2);
    CHECK(s.ttft.p50 == doctest::Approx(0.2));
    CHECK(s.short_ttft.n == 1);
    CHECK(s.short_ttft.p95 == doctest::Approx(0.1));
    CHECK(s.gap.n == 3);
    CHECK(s.gap.p50 == doctest::Approx(0.02));
    CHECK(s.e2e.p99 == doctest::Approx(1.99));
  }

  TEST_CASE("gates: worst rung decides, thresholds inclusive, doubling pairs only") {
    gate_thresholds t;
    SUBCASE("all pass") {
      auto g = evaluate_gates({rung(1, 0.5, 0.05, 0), rung(2, 0.55, 0.06, 0.02)}, t, true);
      CHECK(all_passed(g));
      CHECK(gate(g, "doubling_ttft_rise").evaluated);
      CHECK(gate(g, "doubling_ttft_rise").measured == doctest::Approx(0.1));
      CHECK(gate(g, "error_rate").measured == doctest::Approx(0.02));
    }
    SUBCASE("each gate fails on its own") {
      auto g = evaluate_gates({rung(1, 0.5, 0.05, 0), rung(2, 1.3, 0.2, 0.05)}, t, true);
      CHECK_FALSE(all_passed(g));
      CHECK_FALSE(gate(g, "short_ttft_p95_s").pass);
      CHECK(gate(g, "short_ttft_p95_s").measured == doctest::Approx(1.3));
      CHECK(gate(g, "short_ttft_p95_s").detail == "worst rung c=2");
      CHECK_FALSE(gate(g, "gap_p95_s").pass);
      CHECK_FALSE(gate(g, "error_rate").pass);
      CHECK_FALSE(gate(g, "doubling_ttft_rise").pass);
      CHECK(gate(g, "doubling_ttft_rise").measured == doctest::Approx(1.6));
      CHECK(gate(g, "doubling_ttft_rise").detail == "worst pair c=1 -> c=2");
    }
    SUBCASE("no stream: gap skipped; 1,3 has no doubling pair; thresholds from flags") {
      t.short_ttft_p95_s = 0.4;
      auto g = evaluate_gates({rung(1, 0.5, 9, 0), rung(3, 5, 9, 0)}, t, false);
      CHECK_FALSE(gate(g, "gap_p95_s").evaluated);
      CHECK_FALSE(gate(g, "doubling_ttft_rise").evaluated);
      CHECK_FALSE(gate(g, "short_ttft_p95_s").pass);
      CHECK_FALSE(all_passed(g));
    }
  }

  TEST_CASE("mix: rotation holds the weights in every window of 10, bodies ask for usage") {
    const auto& mix = builtin_mix();
    CHECK(mix.label() == "ladder-mix-v2");
    for (int client = 0; client < 3; ++client) {
      std::map<std::string, int> seen;
      for (int seq = 5; seq < 15; ++seq) ++seen[mix.pick(client, seq).kind];
      CHECK(seen == std::map<std::string, int>{{"short_chat", 5}, {"agent_call", 3}, {"long_summarise", 2}});
    }
    CHECK(mix.summary() == "ladder-mix-v2: short_chat 5/10, agent_call 3/10, long_summarise 2/10");
    // Smooth weighted round-robin spreads an entry out: the two long prompts are never adjacent.
    for (std::size_t i = 0; i < mix.rotation.size(); ++i)
      CHECK_FALSE((mix.rotation[i] == 2 && mix.rotation[(i + 1) % mix.rotation.size()] == 2));
    auto body = request_body(mix.entries[1], "m", 64, true);
    CHECK(body.find("\"include_usage\":true") != std::string::npos);
    CHECK(body.find("\"max_tokens\":16") != std::string::npos);
    CHECK(request_body(mix.entries[0], "m", 8, false).find("stream_options") == std::string::npos);
  }
}
