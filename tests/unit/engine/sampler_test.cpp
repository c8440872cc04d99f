// Sampler tests: parameter validation, greedy = argmax, seeded reproducibility, sampled
// frequencies against softmax (fixed seeds, chi-square bound), top_k / top_p / min_p against a
// full-sort reference, each penalty on hand-computed logits, log-prob normalization and order.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <vector>

#include "backends/engine/sampler.hpp"

using namespace laneway::engine;

namespace {

std::vector<float> random_logits(int n, uint64_t seed, float scale = 4.0f) {
  xoshiro256ss rng(seed);
  std::vector<float> l(static_cast<std::size_t>(n));
  for (auto& v : l) v = static_cast<float>((rng.uniform() - 0.5) * scale);
  return l;
}

std::vector<double> softmax(const std::vector<float>& l, double t = 1.0) {
  const double m = *std::max_element(l.begin(), l.end());
  std::vector<double> p(l.size());
  double s = 0;
  for (std::size_t i = 0; i < l.size(); ++i) s += p[i] = std::exp((l[i] - m) / t);
  for (auto& v : p) v /= s;
  return p;
}

sampling_params seeded(uint64_t seed) {
  sampling_params p;
  p.seed = seed;
  return p;
}

// Draws n tokens (each from a fresh sampler state with no penalties) and counts them.
std::vector<int> histogram(sampling_params p, const std::vector<float>& logits, int n) {
  sampler s(p, static_cast<int32_t>(logits.size()));
  std::vector<int> counts(logits.size(), 0);
  for (int i = 0; i < n; ++i) ++counts[static_cast<std::size_t>(s.sample(logits).token)];
  return counts;
}

double chi_square(const std::vector<int>& counts, const std::vector<double>& p, int n) {
  double chi = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == 0) {
      CHECK(counts[i] == 0);
      continue;
    }
    const double e = p[i] * n;
    chi += (counts[i] - e) * (counts[i] - e) / e;
  }
  return chi;
}

// The tokens a reference (full sort) pipeline keeps after temperature 1, top_p and min_p.
std::set<int32_t> reference_kept(const std::vector<float>& l, float top_p, float min_p) {
  const auto p = softmax(l);
  std::vector<int32_t> order(l.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
  std::set<int32_t> kept;
  double cum = 0;
  const double pmax = p[order[0]];
  for (const int32_t t : order) {
    if (p[t] >= min_p * pmax) kept.insert(t);
    cum += p[t];
    if (cum >= top_p) break;
  }
  return kept;
}

}  // namespace

TEST_SUITE("engine") {
  TEST_CASE("sampler: validation names the field") {
    CHECK_FALSE(validate(sampling_params{}).has_value());
    struct row {
      const char* field;
      void (*set)(sampling_params&);
    };
    const row rows[] = {
        {"temperature", [](sampling_params& p) { p.temperature = -0.1f; }},
        {"temperature", [](sampling_params& p) { p.temperature = 2.5f; }},
        {"temperature", [](sampling_params& p) { p.temperature = NAN; }},
        {"top_k", [](sampling_params& p) { p.top_k = -2; }},
        {"top_p", [](sampling_params& p) { p.top_p = 0.0f; }},
        {"top_p", [](sampling_params& p) { p.top_p = 1.01f; }},
        {"min_p", [](sampling_params& p) { p.min_p = -0.01f; }},
        {"min_p", [](sampling_params& p) { p.min_p = 1.5f; }},
        {"presence_penalty", [](sampling_params& p) { p.presence_penalty = 2.1f; }},
        {"frequency_penalty", [](sampling_params& p) { p.frequency_penalty = -2.1f; }},
        {"repetition_penalty", [](sampling_params& p) { p.repetition_penalty = 0.0f; }},
        {"repetition_penalty", [](sampling_params& p) { p.repetition_penalty = INFINITY; }},
        {"repetition_last_n", [](sampling_params& p) { p.repetition_last_n = -5; }},
        {"max_tokens", [](sampling_params& p) { p.max_tokens = 0; }},
        {"top_logprobs", [](sampling_params& p) { p.logprobs = true, p.top_logprobs = 21; }},
        {"top_logprobs", [](sampling_params& p) { p.top_logprobs = 3; }},  // without logprobs
    };
    for (const auto& r : rows) {
      sampling_params p;
      r.set(p);
      const auto e = validate(p);
      REQUIRE(e.has_value());
      CHECK(e->field == r.field);
      CHECK(e->message.find(r.field) != std::string::npos);
    }
    sampling_params edge;  // the ends of every range are allowed
    edge.temperature = 2.0f;
    edge.top_k = -1;
    edge.top_p = 1.0f;
    edge.min_p = 1.0f;
    edge.presence_penalty = -2.0f;
    edge.frequency_penalty = 2.0f;
    edge.repetition_penalty = 0.01f;
    edge.max_tokens = 1;
    edge.logprobs = true;
    edge.top_logprobs = 20;
    CHECK_FALSE(validate(edge).has_value());
  }

  TEST_CASE("sampler: temperature 0 is argmax, lowest id on ties") {
    sampling_params p;
    p.temperature = 0.0f;
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      const auto l = random_logits(1000, seed);
      sampler s(p, 1000);
      CHECK(s.sample(l).token == std::max_element(l.begin(), l.end()) - l.begin());
    }
    sampler s(p, 5);
    const std::vector<float> tie{1.0f, 3.0f, -2.0f, 3.0f, NAN};
    CHECK(s.sample(tie).token == 1);
  }

  TEST_CASE("sampler: top_k = 1 and a tiny top_p are greedy") {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      const auto l = random_logits(2000, seed, 2.0f);
      const int32_t best = static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
      auto k1 = seeded(seed);
      k1.top_k = 1;
      auto p0 = seeded(seed);
      p0.top_p = 1e-6f;
      sampler a(k1, 2000), b(p0, 2000);
      for (int i = 0; i < 10; ++i) {
        CHECK(a.sample(l).token == best);
        CHECK(b.sample(l).token == best);
      }
    }
  }

  TEST_CASE("sampler: same seed, same tokens; another seed, other tokens") {
    auto p = seeded(1234);
    p.top_k = 50;
    p.top_p = 0.95f;
    p.min_p = 0.01f;
    p.frequency_penalty = 0.3f;
    p.repetition_penalty = 1.1f;
    auto run = [&](sampling_params q) {
      sampler s(q, 3000);
      s.accept_prompt(std::vector<int32_t>{5, 6, 7});
      std::vector<int32_t> out;
      for (int i = 0; i < 200; ++i) out.push_back(s.sample(random_logits(3000, 100 + i % 7, 3.0f)).token);
      return out;
    };
    CHECK(run(p) == run(p));
    auto q = p;
    q.seed = 1235;
    CHECK(run(p) != run(q));
    sampler s(seeded(77), 10);
    CHECK(s.seed() == 77);
    sampler r(sampling_params{}, 10);  // unseeded: a random seed, reported
    sampler r2(sampling_params{}, 10);
    CHECK(r.seed() != r2.seed());
  }

  TEST_CASE("sampler: frequencies follow softmax(logits / temperature)") {
    const std::vector<float> l{1.0f, 2.0f, 0.5f, -1.0f};
    const int n = 20000;
    // chi-square with 3 degrees of freedom: 16.27 is the 99.9% quantile. Fixed seeds: deterministic.
    for (const float t : {1.0f, 0.5f, 1.7f}) {
      auto p = seeded(42);
      p.temperature = t;
      const auto counts = histogram(p, l, n);
      CHECK(chi_square(counts, softmax(l, t), n) < 16.27);
    }
  }

  TEST_CASE("sampler: top_k keeps the k best, renormalized") {
    const std::vector<float> l{1.0f, 2.0f, 0.5f, -1.0f, 1.5f};
    auto p = seeded(7);
    p.top_k = 2;
    const int n = 10000;
    const auto counts = histogram(p, l, n);
    std::vector<double> expect{0, 0, 0, 0, 0};
    const double z = std::exp(2.0) + std::exp(1.5);
    expect[1] = std::exp(2.0) / z;
    expect[4] = std::exp(1.5) / z;
    CHECK(chi_square(counts, expect, n) < 10.83);  // 1 degree of freedom, 99.9%
  }

  TEST_CASE("sampler: top_p keeps the smallest set reaching p") {
    // probabilities 0.5, 0.3, 0.15, 0.05
    const std::vector<float> l{std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
    auto p = seeded(3);
    p.top_p = 0.75f;
    auto counts = histogram(p, l, 4000);
    CHECK(counts[2] == 0);
    CHECK(counts[3] == 0);
    CHECK(chi_square(counts, {0.625, 0.375, 0, 0}, 4000) < 10.83);
    p.top_p = 0.85f;
    counts = histogram(p, l, 4000);
    CHECK(counts[2] > 0);
    CHECK(counts[3] == 0);
  }

  TEST_CASE("sampler: min_p drops tokens under min_p * p_max") {
    const std::vector<float> l{std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
    auto p = seeded(5);
    p.min_p = 0.2f;  // floor 0.1
    auto counts = histogram(p, l, 4000);
    CHECK(counts[3] == 0);
    CHECK(counts[2] > 0);
    CHECK(chi_square(counts, {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}, 4000) < 13.82);  // 2 dof
    p.min_p = 0.5f;  // floor 0.25
    counts = histogram(p, l, 4000);
    CHECK(counts[2] == 0);
    CHECK(counts[1] > 0);
  }

  TEST_CASE("sampler: top_p / min_p / top_k on a large vocab keep what a full sort keeps") {
    // Flat-ish logits: the nucleus spans thousands of tokens, so the chunked partial sort grows.
    struct row {
      float top_p, min_p;
      int32_t top_k;
    };
    const row rows[] = {{0.9f, 0.0f, 0}, {0.5f, 0.0f, 0}, {0.9f, 0.6f, 0}, {1.0f, 0.8f, 0}, {0.7f, 0.0f, 3000}};
    const auto l = random_logits(8000, 99, 1.0f);
    for (const auto& r : rows) {
      auto p = seeded(11);
      p.top_p = r.top_p;
      p.min_p = r.min_p;
      p.top_k = r.top_k;
      std::vector<float> ref_l = l;
      if (r.top_k > 0) {  // reference top_k: mask all but the k best
        auto sorted = l;
        std::sort(sorted.begin(), sorted.end(), std::greater<>());
        for (auto& v : ref_l)
          if (v < sorted[static_cast<std::size_t>(r.top_k) - 1]) v = -INFINITY;
      }
      const auto kept = reference_kept(ref_l, r.top_p, r.min_p);
      CAPTURE(r.top_p);
      CAPTURE(r.min_p);
      CHECK(kept.size() > 64);
      sampler s(p, 8000);
      std::set<int32_t> seen;
      for (int i = 0; i < 3000; ++i) {
        const int32_t t = s.sample(l).token;
        CHECK(kept.count(t) == 1);
        seen.insert(t);
      }
      CHECK(seen.size() > kept.size() / 3);  // draws spread over the set, not stuck on a few
    }
  }

  TEST_CASE("sampler: penalties on hand-computed logits") {
    SUBCASE("repetition over prompt + generation, positive divided, negative multiplied") {
      sampling_params p;
      p.repetition_penalty = 2.0f;
      sampler s(p, 5);
      s.accept_prompt(std::vector<int32_t>{1, 2, 1});
      s.accept(2);
      s.accept(3);
      std::vector<float> l{1.0f, 2.0f, -1.0f, 0.5f, 3.0f};
      s.apply_penalties(l);
      CHECK(l == std::vector<float>{1.0f, 1.0f, -2.0f, 0.25f, 3.0f});
    }
    SUBCASE("repetition over the last N tokens only") {
      sampling_params p;
      p.repetition_penalty = 2.0f;
      p.repetition_last_n = 2;
      sampler s(p, 5);
      s.accept_prompt(std::vector<int32_t>{0, 1, 2});
      s.accept(3);
      std::vector<float> l{1.0f, 2.0f, -1.0f, 0.5f, 3.0f};
      s.apply_penalties(l);  // window: tokens 2, 3
      CHECK(l == std::vector<float>{1.0f, 2.0f, -2.0f, 0.25f, 3.0f});
      p.repetition_last_n = 0;  // off
      sampler off(p, 5);
      off.accept_prompt(std::vector<int32_t>{0, 1});
      std::vector<float> m{1.0f, 2.0f, -1.0f, 0.5f, 3.0f};
      off.apply_penalties(m);
      CHECK(m == std::vector<float>{1.0f, 2.0f, -1.0f, 0.5f, 3.0f});
    }
    SUBCASE("presence and frequency over generated tokens only") {
      sampling_params p;
      p.presence_penalty = 0.5f;
      p.frequency_penalty = 0.25f;
      sampler s(p, 5);
      s.accept_prompt(std::vector<int32_t>{0, 0, 0});  // the prompt does not count
      s.accept(3);
      s.accept(3);
      s.accept(1);
      std::vector<float> l{1.0f, 2.0f, -1.0f, 0.5f, 3.0f};
      s.apply_penalties(l);
      CHECK(l[0] == 1.0f);
      CHECK(l[1] == doctest::Approx(2.0 - 0.25 - 0.5));
      CHECK(l[3] == doctest::Approx(0.5 - 2 * 0.25 - 0.5));
      CHECK(l[4] == 3.0f);
      CHECK(s.n_generated() == 3);
    }
    SUBCASE("repetition first, then frequency") {
      sampling_params p;
      p.repetition_penalty = 2.0f;
      p.frequency_penalty = 1.0f;
      sampler s(p, 3);
      s.accept(1);
      std::vector<float> l{0.0f, 4.0f, 0.0f};
      s.apply_penalties(l);
      CHECK(l[1] == 1.0f);  // 4 / 2 - 1
    }
    SUBCASE("a penalty changes the greedy choice") {
      sampling_params p;
      p.temperature = 0.0f;
      p.frequency_penalty = 0.2f;
      sampler s(p, 3);
      const std::vector<float> l{2.0f, 1.9f, 0.0f};
      CHECK(s.sample(l).token == 0);
      CHECK(s.sample(l).token == 1);  // 2.0 - 0.2 < 1.9
      CHECK(s.sample(l).token == 0);  // 1.8 > 1.9 - 0.2
    }
  }

  TEST_CASE("sampler: logprobs are a log-softmax of the unmodified logits, top-N best first") {
    auto p = seeded(9);
    p.temperature = 0.3f;
    p.repetition_penalty = 1.5f;
    p.logprobs = true;
    p.top_logprobs = 20;
    const auto l = random_logits(20, 4);
    const auto ref = softmax(l);
    sampler s(p, 20);
    s.accept_prompt(std::vector<int32_t>{0, 1, 2, 3});
    for (int step = 0; step < 5; ++step) {
      const auto out = s.sample(l);
      CHECK(out.logprob == doctest::Approx(std::log(ref[static_cast<std::size_t>(out.token)])).epsilon(1e-5));
      REQUIRE(out.n_top == 20);
      double sum = 0;
      for (int j = 0; j < out.n_top; ++j) {
        sum += std::exp(out.top[j].logprob);
        if (j) CHECK(out.top[j - 1].logprob >= out.top[j].logprob);
        CHECK(out.top[j].logprob == doctest::Approx(std::log(ref[static_cast<std::size_t>(out.top[j].token)])).epsilon(1e-5));
      }
      CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
    }
    // top 3 of a larger row, with a tie resolved by the lower id
    p.top_logprobs = 3;
    sampler t(p, 6);
    const std::vector<float> row{0.0f, 5.0f, 1.0f, 5.0f, -3.0f, 4.0f};
    const auto out = t.sample(row);
    REQUIRE(out.top_logprobs().size() == 3);
    CHECK(out.top[0].token == 1);
    CHECK(out.top[1].token == 3);
    CHECK(out.top[2].token == 5);
    CHECK(out.top[0].logprob == out.top[1].logprob);
    CHECK(out.top[0].logprob < 0.0f);
    p.logprobs = false;
    p.top_logprobs = 0;
    sampler none(p, 6);
    CHECK(none.sample(row).n_top == 0);
  }

  TEST_CASE("sampler: max_tokens") {
    auto p = seeded(1);
    p.max_tokens = 3;
    sampler s(p, 4);
    const std::vector<float> l{0, 0, 0, 0};
    for (int i = 0; i < 3; ++i) {
      CHECK_FALSE(s.reached_max_tokens());
      s.sample(l);
    }
    CHECK(s.reached_max_tokens());
    sampler unlimited(seeded(1), 4);
    for (int i = 0; i < 100; ++i) unlimited.sample(l);
    CHECK_FALSE(unlimited.reached_max_tokens());
  }
}

#include "backends/engine/sampler_math.hpp"

TEST_SUITE("engine") {
  TEST_CASE("sampler: the float exp kernels match std::exp") {
    using namespace laneway::engine::sampler_math;
    std::vector<float> x;
    for (float v = -90.0f; v <= 0.0f; v += 0.0137f) x.push_back(v);
    x.push_back(0.0f);
    x.push_back(-INFINITY);
    while (x.size() % 4) x.push_back(-1.0f);
    std::vector<float> p(x.size());
    std::vector<double> block((x.size() + 63) / 64);
    const double total = exp_row(x.data(), p.data(), block.data(), 0.0f, static_cast<int32_t>(x.size()));
    double ref_total = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double ref = x[i] < -87.0f ? 0.0 : std::exp(static_cast<double>(x[i]));
      ref_total += ref;
      CAPTURE(x[i]);
      CHECK(std::abs(p[i] - ref) <= 1e-6 * ref + 1e-38);
      CHECK(std::abs(exp_nonpositive(x[i]) - ref) <= 1e-6 * ref + 1e-38);
    }
    CHECK(total == doctest::Approx(ref_total).epsilon(1e-6));
    CHECK(sum_exp(x.data(), 0.0f, static_cast<int32_t>(x.size())) == doctest::Approx(ref_total).epsilon(1e-6));
    double block_total = 0;
    for (const double b : block) block_total += b;
    CHECK(block_total == doctest::Approx(total).epsilon(1e-12));
  }
}
