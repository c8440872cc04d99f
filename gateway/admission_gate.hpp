// The lanes' admission in the request path: routing's admission_controller (pure, one for the
// whole gateway) behind a mutex, and the waiting. A queued request's coroutine sleeps on its own
// steady_timer (its I/O thread keeps serving others); when capacity frees, whoever freed it posts
// a cancel to the waiter's executor; the timer firing at the lane's queue_timeout means 503.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/http/error.hpp"
#include "routing/admission.hpp"

namespace laneway::gateway {

class admission_gate {
 public:
  admission_gate(std::vector<routing::lane_config> lanes, std::size_t capacity);
  ~admission_gate();

  struct pass {
    routing::ticket id = 0;
    double queue_wait_ms = 0;
  };
  // Admitted at once or after waiting in the lane's queue; else the error to answer with
  // (429 rate_limited / queue_full with Retry-After, 503 shed / queue_timeout).
  // `on_queued(ticket)` runs (on the caller's thread) when the request has to wait; cancel(ticket)
  // then ends the wait (the client left): admit returns an error the caller does not answer with.
  boost::asio::awaitable<http::result<pass>> admit(const routing::admission_request& request,
                                                   const std::function<void(routing::ticket)>& on_queued = {});
  // A queued request's client left: out of the queue, its tokens refunded. Safe from any thread.
  bool cancel(routing::ticket id);
  // An admitted request ended; actual_tokens: prompt + completion from usage, < 0 unknown.
  void finish(routing::ticket id, std::int64_t actual_tokens);
  void set_capacity(std::size_t max_in_flight_total);
  std::optional<routing::lane_stats> stats(std::string_view lane) const;

  // The error a rejection is answered with.
  static http::error rejection_error(const routing::admission_outcome& out, std::string_view lane);

 private:
  struct waiter;
  void wake_locked(const std::vector<routing::ticket>& tickets, bool admitted);

  mutable std::mutex mutex_;
  routing::admission_controller controller_;
  std::unordered_map<routing::ticket, std::shared_ptr<waiter>> waiters_;
};

}  // namespace laneway::gateway
