// Admission with coroutine waits (see admission_gate.hpp). A waiter's state is written under the
// gate's mutex; its timer is touched only on its own I/O thread (the wake-up is a posted cancel,
// which runs after the waiter suspended, since both run on that thread's io_context).
#include "gateway/admission_gate.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace laneway::gateway {

namespace asio = boost::asio;
using clock = routing::admission_controller::clock;

struct admission_gate::waiter {
  explicit waiter(asio::any_io_executor ex) : timer(ex) {}
  asio::steady_timer timer;
  enum class state { pending, admitted, timed_out, cancelled } s = state::pending;
};

admission_gate::admission_gate(std::vector<routing::lane_config> lanes, std::size_t capacity)
    : controller_(std::move(lanes), clock::now(), capacity) {}

admission_gate::~admission_gate() = default;

http::error admission_gate::rejection_error(const routing::admission_outcome& out, std::string_view lane) {
  using r = routing::reject_reason;
  std::string in = " in lane '" + std::string(lane) + "'";
  http::error err;
  switch (out.reason) {
    case r::request_rate: err = http::make_error(http::error_kind::rate_limited, "request rate limit reached" + in); break;
    case r::token_rate: err = http::make_error(http::error_kind::rate_limited, "token rate limit reached" + in); break;
    case r::queue_full: err = http::make_error(http::error_kind::queue_full, "the waiting queue is full" + in); break;
    case r::shed: err = http::make_error(http::error_kind::shed, "the nodes are saturated; lane '" + std::string(lane) + "' is shed"); break;
    case r::queue_timeout: err = http::make_error(http::error_kind::queue_timeout, "waited too long for capacity" + in); break;
    case r::unknown_lane:
    case r::none: err = http::make_error(http::error_kind::internal, "no admission lane named '" + std::string(lane) + "'"); break;
  }
  if (err.status() == 429 || err.status() == 503) err.retry_after_s = static_cast<unsigned>(std::max(1, out.retry_after_s));
  return err;
}

void admission_gate::wake_locked(const std::vector<routing::ticket>& tickets, bool admitted) {
  for (auto id : tickets) {
    auto it = waiters_.find(id);
    if (it == waiters_.end()) continue;
    auto w = it->second;
    w->s = admitted ? waiter::state::admitted : waiter::state::timed_out;
    asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
  }
}

asio::awaitable<http::result<admission_gate::pass>> admission_gate::admit(const routing::admission_request& request,
                                                                          const std::function<void(routing::ticket)>& on_queued) {
  const auto started = clock::now();
  std::shared_ptr<waiter> w;
  routing::ticket id = 0;
  clock::time_point deadline;
  {
    std::lock_guard lock(mutex_);
    auto out = controller_.admit(request, started);
    if (out.status == routing::admission_status::admitted) co_return pass{out.id, 0.0};
    if (out.status == routing::admission_status::rejected) co_return rejection_error(out, request.lane);
    id = out.id;
    const auto* lane = controller_.lane(request.lane);
    deadline = started + (lane ? lane->queue_timeout : std::chrono::milliseconds(30'000));
    w = std::make_shared<waiter>(co_await asio::this_coro::executor);
    waiters_.emplace(id, w);
  }
  if (on_queued) on_queued(id);
  auto waited_ms = [&] { return std::chrono::duration<double, std::milli>(clock::now() - started).count(); };
  for (;;) {
    w->timer.expires_at(deadline);
    co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    std::lock_guard lock(mutex_);
    if (w->s == waiter::state::pending && clock::now() >= deadline) {
      auto expired = controller_.expire(clock::now());
      wake_locked(expired, false);
      if (w->s == waiter::state::pending) deadline = clock::now() + std::chrono::milliseconds(5);
    }
    if (w->s == waiter::state::pending) continue;
    waiters_.erase(id);
    if (w->s == waiter::state::admitted) co_return pass{id, waited_ms()};
    if (w->s == waiter::state::cancelled) co_return http::make_error(http::error_kind::bad_request, "the client left while queued");
    routing::admission_outcome timed_out;
    timed_out.reason = routing::reject_reason::queue_timeout;
    timed_out.retry_after_s = 1;
    co_return rejection_error(timed_out, request.lane);
  }
}

bool admission_gate::cancel(routing::ticket id) {
  std::lock_guard lock(mutex_);
  auto it = waiters_.find(id);
  if (it == waiters_.end() || it->second->s != waiter::state::pending) return false;
  if (!controller_.cancel(id, clock::now())) return false;
  auto w = it->second;
  w->s = waiter::state::cancelled;
  asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
  return true;
}

void admission_gate::finish(routing::ticket id, std::int64_t actual_tokens) {
  std::lock_guard lock(mutex_);
  wake_locked(controller_.finish(id, actual_tokens, clock::now()), true);
}

void admission_gate::set_capacity(std::size_t max_in_flight_total) {
  std::lock_guard lock(mutex_);
  wake_locked(controller_.set_capacity(max_in_flight_total, clock::now()), true);
}

std::optional<routing::lane_stats> admission_gate::stats(std::string_view lane) const {
  std::lock_guard lock(mutex_);
  return controller_.stats(lane);
}

}  // namespace laneway::gateway
