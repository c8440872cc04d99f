// request_stream: the bounded channel of one request's tokens from the scheduler thread to its
// consumer, and the signal that wakes the scheduler (scheduler.hpp). Every member takes the
// stream's mutex briefly; the scheduler is poked after the mutex is released.
#include <utility>

#include "backends/engine/scheduler.hpp"

namespace laneway::engine {

const char* to_string(finish_reason r) {
  switch (r) {
    case finish_reason::stop: return "stop";
    case finish_reason::length: return "length";
    case finish_reason::cancelled: return "cancelled";
    case finish_reason::error: return "error";
  }
  return "error";
}

void scheduler_signal::poke() {
  {
    std::lock_guard lock(mutex);
    poked = true;
  }
  cv.notify_one();
}

bool request_stream::take(std::vector<stream_token>& out, std::optional<finish_info>& done) {
  std::shared_ptr<scheduler_signal> wake;
  bool got = false;
  {
    std::lock_guard lock(mutex_);
    // A full channel pauses its sequence: making room must wake the scheduler.
    if (static_cast<int32_t>(tokens_.size()) >= capacity_ && !finished_) wake = wakeup_;
    got = !tokens_.empty();
    out.insert(out.end(), tokens_.begin(), tokens_.end());
    tokens_.clear();
    if (finished_) {
      done = finished_;
      if (!end_taken_) got = true;
      end_taken_ = true;
    }
  }
  if (wake && got) wake->poke();
  return got;
}

void request_stream::cancel(finish_reason reason) {
  std::shared_ptr<scheduler_signal> wake;
  {
    std::lock_guard lock(mutex_);
    if (finished_ || cancel_.load(std::memory_order_relaxed)) return;
    cancel_reason_ = reason;
    cancel_.store(true, std::memory_order_release);
    wake = wakeup_;
  }
  if (wake) wake->poke();
}

finish_reason request_stream::cancel_reason() const {
  std::lock_guard lock(mutex_);
  return cancel_reason_;
}

void request_stream::set_notify(std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  notify_ = std::move(fn);
}

void request_stream::set_wakeup(std::shared_ptr<scheduler_signal> signal) {
  std::lock_guard lock(mutex_);
  wakeup_ = std::move(signal);
}

bool request_stream::push(const stream_token& t) {
  {
    std::lock_guard lock(mutex_);
    if (static_cast<int32_t>(tokens_.size()) >= capacity_) return false;
    tokens_.push_back(t);
  }
  notify();
  return true;
}

void request_stream::finish(finish_info info) {
  {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = std::move(info);
    wakeup_.reset();  // nothing left to wake the scheduler for
  }
  notify();
}

bool request_stream::full() const {
  std::lock_guard lock(mutex_);
  return static_cast<int32_t>(tokens_.size()) >= capacity_;
}

void request_stream::notify() {
  std::function<void()> fn;
  {
    std::lock_guard lock(mutex_);
    fn = notify_;
  }
  if (fn) fn();
}

}  // namespace laneway::engine
