// rope (normal vs NEOX) against hand-computed values, the fast ops against the references, and
// the thread pool covering every task exactly once.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <vector>

#include "backends/cpu/matmul.hpp"
#include "backends/cpu/ops.hpp"
#include "backends/cpu/reference.hpp"
#include "tests/unit/cpu/test_util.hpp"

using namespace laneway::cpu;

TEST_SUITE("cpu") {
TEST_CASE("rope: hand-computed rotations, normal vs neox") {
  // head_dim 4, base 100: pair 0 turns by pos, pair 1 by pos * 100^(-2/4) = pos / 10.
  const int32_t pos[] = {2};
  const double a0 = 2.0, a1 = 0.2;
  for (bool fast : {false, true}) {
    CAPTURE(fast);
    SUBCASE("normal rotates (0,1) and (2,3)") {
      float x[4] = {1.0f, 0.0f, 0.0f, 1.0f};
      fast ? rope(x, 1, 1, 4, pos, 100.0f, rope_mode::normal)
           : ref::rope(x, 1, 1, 4, pos, 100.0f, rope_mode::normal);
      CHECK(x[0] == doctest::Approx(std::cos(a0)).epsilon(1e-6));
      CHECK(x[1] == doctest::Approx(std::sin(a0)).epsilon(1e-6));
      CHECK(x[2] == doctest::Approx(-std::sin(a1)).epsilon(1e-6));
      CHECK(x[3] == doctest::Approx(std::cos(a1)).epsilon(1e-6));
    }
    SUBCASE("neox rotates (0,2) and (1,3)") {
      float x[4] = {1.0f, 0.0f, 0.0f, 1.0f};
      fast ? rope(x, 1, 1, 4, pos, 100.0f, rope_mode::neox)
           : ref::rope(x, 1, 1, 4, pos, 100.0f, rope_mode::neox);
      CHECK(x[0] == doctest::Approx(std::cos(a0)).epsilon(1e-6));
      CHECK(x[2] == doctest::Approx(std::sin(a0)).epsilon(1e-6));
      CHECK(x[1] == doctest::Approx(-std::sin(a1)).epsilon(1e-6));
      CHECK(x[3] == doctest::Approx(std::cos(a1)).epsilon(1e-6));
    }
  }
}

TEST_CASE("rope: fast vs reference over heads and positions") {
  const int64_t n_tokens = 5, n_heads = 3, d = 128;
  const int32_t pos[] = {0, 1, 17, 500, 4000};
  for (rope_mode mode : {rope_mode::normal, rope_mode::neox}) {
    auto a = test::random_vector(static_cast<size_t>(n_tokens * n_heads * d), 9);
    auto b = a;
    ref::rope(a.data(), n_tokens, n_heads, d, pos, 1000000.0f, mode);
    rope(b.data(), n_tokens, n_heads, d, pos, 1000000.0f, mode);
    // The fast path takes the angle in float as llama.cpp does (pos * scale^i by repeated
    // multiplication): at position 4000 one ulp of the angle is 2.4e-4 rad; measured 2.7e-5.
    CHECK(test::normalized_error(b, a) < 1e-4);
  }
}

TEST_CASE("rmsnorm, softmax, silu_mul, add: fast vs reference") {
  const int64_t n = 1000, rows = 3;
  const auto x = test::random_vector(static_cast<size_t>(n * rows), 1);
  const auto w = test::random_vector(static_cast<size_t>(n), 2);
  std::vector<float> a(x.size()), b(x.size());
  SUBCASE("rmsnorm") {
    ref::rmsnorm(x.data(), w.data(), rows, n, 1e-6f, a.data());
    rmsnorm(x.data(), w.data(), rows, n, 1e-6f, b.data());
    CHECK(test::normalized_error(b, a) < 1e-6);
    // unit weight: every row has mean square ~1
    rmsnorm(x.data(), nullptr, rows, n, 0.0f, b.data());
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += b[i] * b[i];
    CHECK(ss / n == doctest::Approx(1.0).epsilon(1e-5));
  }
  SUBCASE("softmax") {
    a.assign(x.begin(), x.begin() + n);
    b = a;
    a[3] = 80.0f;  // large values must not overflow
    b[3] = 80.0f;
    ref::softmax(a.data(), n);
    softmax(b.data(), n);
    CHECK(test::normalized_error(b.data(), a.data(), n) < 1e-5);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += b[i];
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
  }
  SUBCASE("silu_mul and add") {
    ref::silu_mul(x.data(), x.data() + n, a.data(), n);
    silu_mul(x.data(), x.data() + n, b.data(), n);
    CHECK(test::normalized_error(b.data(), a.data(), n) < 1e-6);
    CHECK(a[0] == doctest::Approx(x[0] / (1 + std::exp(-x[0])) * x[n])); 
    ref::add(x.data(), x.data() + n, a.data(), n);
    add(x.data(), x.data() + n, b.data(), n);
    CHECK(test::normalized_error(b.data(), a.data(), n) == 0.0);
  }
}

TEST_CASE("attention: GQA with causal positions, fast vs reference") {
  attention_shape s;
  s.n_tokens = 4;
  s.n_head = 8;
  s.n_head_kv = 2;
  s.head_dim = 64;
  s.n_kv = 11;
  const int32_t q_pos[] = {7, 8, 9, 10};  // 4 new tokens after 7 cached ones
  const auto q = test::random_vector(static_cast<size_t>(s.n_tokens * s.n_head * s.head_dim), 1);
  const auto k = test::random_vector(static_cast<size_t>(s.n_kv * s.n_head_kv * s.head_dim), 2);
  const auto v = test::random_vector(static_cast<size_t>(s.n_kv * s.n_head_kv * s.head_dim), 3);
  std::vector<float> a(q.size()), b(q.size());
  const float scale = 1.0f / 8.0f;
  ref::attention(s, q.data(), k.data(), v.data(), q_pos, scale, a.data());
  thread_pool pool(2);
  attention(s, q.data(), k.data(), v.data(), q_pos, scale, b.data(), pool);
  CHECK(test::normalized_error(b, a) < 1e-5);

  SUBCASE("position 0 sees only the first value row") {
    const int32_t first[] = {0};
    attention_shape one = s;
    one.n_tokens = 1;
    ref::attention(one, q.data(), k.data(), v.data(), first, scale, a.data());
    for (int64_t h = 0; h < s.n_head; ++h) {
      const int64_t hk = h / 4;
      for (int64_t i = 0; i < s.head_dim; ++i) {
        CHECK(a[h * s.head_dim + i] == doctest::Approx(v[hk * s.head_dim + i]));
      }
    }
  }
}

TEST_CASE("thread_pool: every task runs exactly once, many times over") {
  for (int threads : {1, 2, 4}) {
    thread_pool pool(threads);
    CHECK(pool.size() == threads);
    std::vector<std::atomic<int>> hits(1000);
    for (int round = 0; round < 200; ++round) {
      const int64_t n = 1 + (round * 37) % 1000;
      pool.parallel_for(n, [&](int64_t i) { hits[static_cast<size_t>(i)].fetch_add(1); });
    }
    int64_t total = 0;
    for (auto& h : hits) total += h.load();
    int64_t expected = 0;
    for (int round = 0; round < 200; ++round) expected += 1 + (round * 37) % 1000;
    CHECK(total == expected);
    pool.parallel_for(0, [&](int64_t) { FAIL("no task expected"); });
  }
}

TEST_CASE("thread_pool: back-to-back tiny jobs (late workers must not claim a finished job's tasks)") {
  // Jobs of 2-3 tasks in a tight loop: workers often wake after the caller has done every task
  // and moved on; each job's tasks must still run exactly once, and only while their job runs.
  thread_pool pool(3);
  std::atomic<int64_t> ran{0}, wrong_job{0};
  int64_t expected = 0, bad_rounds = 0;
  for (int round = 0; round < 20000; ++round) {
    const int64_t n = 2 + round % 2;
    std::atomic<int> hits[3] = {0, 0, 0};
    std::atomic<bool> open{true};
    pool.parallel_for(n, [&](int64_t i) {
      if (!open.load()) wrong_job.fetch_add(1);
      hits[i].fetch_add(1);
      ran.fetch_add(1);
    });
    open.store(false);
    for (int64_t i = 0; i < n; ++i) bad_rounds += hits[i].load() == 1 ? 0 : 1;
    expected += n;
  }
  CHECK(bad_rounds == 0);
  CHECK(ran.load() == expected);
  CHECK(wrong_job.load() == 0);
}
}
