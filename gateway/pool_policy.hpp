// When a pooled upstream connection may be kept or reused: the pure rules behind upstream_pool,
// separate so they can be tested without sockets. Reasons double as the `reason` label of
// laneway_upstream_connections_closed_total.
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

namespace laneway::gateway {

struct pool_settings {
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds idle_timeout{30'000};  // an idle connection older than this is closed
  std::chrono::milliseconds max_age{300'000};      // no connection lives longer than this
  std::size_t max_idle = 32;                       // idle connections kept per node and I/O thread
};

enum class pool_verdict { keep, idle_timeout, max_age, pool_full, not_reusable };

std::string_view to_string(pool_verdict verdict);

using pool_clock = std::chrono::steady_clock;

// A connection coming back after a response: keep it idle, or why it is closed.
pool_verdict on_release(const pool_settings& s, bool reusable, pool_clock::time_point created,
                        pool_clock::time_point now, std::size_t idle_now);
// An idle connection about to be reused (or swept): still good, or why it is closed.
pool_verdict on_checkout(const pool_settings& s, pool_clock::time_point created, pool_clock::time_point last_used,
                         pool_clock::time_point now);

}  // namespace laneway::gateway
