// Upstream pool rules: when a connection is kept, reused or closed, and the reason label.
#include <doctest/doctest.h>

#include "gateway/pool_policy.hpp"

using namespace laneway::gateway;
using namespace std::chrono_literals;

TEST_SUITE("gateway") {
  TEST_CASE("release keeps a reusable young connection while the pool has room") {
    pool_settings s{.idle_timeout = 30s, .max_age = 300s, .max_idle = 2};
    auto t = pool_clock::now();
    CHECK(on_release(s, true, t, t + 1s, 0) == pool_verdict::keep);
    CHECK(on_release(s, true, t, t + 1s, 1) == pool_verdict::keep);
    CHECK(on_release(s, true, t, t + 1s, 2) == pool_verdict::pool_full);
    CHECK(on_release(s, false, t, t + 1s, 0) == pool_verdict::not_reusable);
    CHECK(on_release(s, true, t, t + 300s, 0) == pool_verdict::max_age);
    pool_settings none{.max_idle = 0};
    CHECK(on_release(none, true, t, t, 0) == pool_verdict::pool_full);
  }

  TEST_CASE("checkout rejects connections idle too long or too old") {
    pool_settings s{.idle_timeout = 30s, .max_age = 300s};
    auto t = pool_clock::now();
    CHECK(on_checkout(s, t, t + 10s, t + 20s) == pool_verdict::keep);
    CHECK(on_checkout(s, t, t + 10s, t + 40s) == pool_verdict::idle_timeout);
    CHECK(on_checkout(s, t, t + 299s, t + 301s) == pool_verdict::max_age);
  }

  TEST_CASE("verdict names are the metrics reasons") {
    CHECK(to_string(pool_verdict::idle_timeout) == "idle_timeout");
    CHECK(to_string(pool_verdict::max_age) == "max_age");
    CHECK(to_string(pool_verdict::pool_full) == "pool_full");
    CHECK(to_string(pool_verdict::not_reusable) == "not_reusable");
  }
}
