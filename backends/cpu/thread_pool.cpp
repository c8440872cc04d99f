// thread_pool: job hand-off through a generation counter (spin, then a condition variable);
// tasks claimed by compare-and-swap on (job number, next index), so only the current job's
// tasks can be claimed and the caller waits for claimed tasks only.
#include "backends/cpu/thread_pool.hpp"

#include <cassert>
#include <chrono>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LANEWAY_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define LANEWAY_CPU_RELAX() asm volatile("yield")
#else
#define LANEWAY_CPU_RELAX() ((void)0)
#endif

namespace laneway::cpu {

namespace {
// How long a thread spins before it sleeps: long enough to bridge the gap between the matmuls of
// one forward pass, short enough not to burn a shared core between requests.
constexpr auto spin_window = std::chrono::microseconds(300);
constexpr auto pure_spin = std::chrono::microseconds(30);  // then spin with sched_yield

// Spin until load() != old or the window passes; returns the last value seen. Yields now and
// then: a freshly started worker often shares the caller's core until the scheduler moves it,
// and pure spinning would then wait for a whole time slice.
template <class T>
T spin_while_equal(const std::atomic<T>& a, T old) {
  const auto start = std::chrono::steady_clock::now();
  const auto until = start + spin_window, yield_after = start + pure_spin;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      const T v = a.load(std::memory_order_acquire);
      if (v != old) return v;
      LANEWAY_CPU_RELAX();
    }
    const auto now = std::chrono::steady_clock::now();
    if (now > until) return old;
    if (now > yield_after) std::this_thread::yield();
  }
}

constexpr uint64_t claim_word(uint32_t job, uint32_t next) { return uint64_t{job} << 32 | next; }
}  // namespace

thread_pool::thread_pool(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::thread::hardware_concurrency());
  if (n_threads <= 0) n_threads = 1;
  workers_.reserve(static_cast<size_t>(n_threads - 1));
  for (int i = 1; i < n_threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

thread_pool::~thread_pool() {
  {
    std::lock_guard<std::mutex> lock(sleep_mutex_);
    stop_.store(true, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

// Claims and runs tasks of job `job` until none is left (or a newer job has replaced it). The
// job's fields are read between loading claim_ and the compare-and-swap that claims a task: if
// the swap succeeds, claim_ did not change in between, so they were that job's.
void thread_pool::work_on(uint32_t job) {
  uint64_t v = claim_.load(std::memory_order_acquire);
  for (;;) {
    if (static_cast<uint32_t>(v >> 32) != job) return;
    const int64_t n = n_tasks_.load(std::memory_order_relaxed);
    const uint32_t i = static_cast<uint32_t>(v);
    if (i >= n) return;
    const task_fn call = call_.load(std::memory_order_relaxed);
    void* ctx = ctx_.load(std::memory_order_relaxed);
    if (!claim_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    call(ctx, i);
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == n) {
      std::lock_guard<std::mutex> lock(sleep_mutex_);  // the caller checks under this lock
      done_cv_.notify_one();
    }
    v = claim_.load(std::memory_order_acquire);
  }
}

void thread_pool::worker_loop() {
  uint32_t seen = 0;  // the job number at construction: a worker that starts late still joins job 1
  for (;;) {
    uint32_t g = spin_while_equal(generation_, seen);
    if (g == seen) {
      std::unique_lock<std::mutex> lock(sleep_mutex_);
      wake_cv_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      g = generation_.load(std::memory_order_acquire);
    }
    seen = g;
    if (stop_.load(std::memory_order_acquire)) return;
    work_on(seen);
  }
}

void thread_pool::run(int64_t n_tasks, task_fn call, void* ctx) {
  if (n_tasks <= 0) return;
  if (workers_.empty() || n_tasks == 1) {
    for (int64_t i = 0; i < n_tasks; ++i) call(ctx, i);
    return;
  }
  assert(n_tasks < int64_t{UINT32_MAX});
  std::lock_guard<std::mutex> lock(run_mutex_);
  const uint32_t job = generation_.load(std::memory_order_relaxed) + 1;
  // Close the previous job's claim word before touching the fields: a worker still holding a
  // stale (previous job, index) value could otherwise claim "a task" with the new fields while
  // they are being written. The exchange also orders that worker's field reads (before its
  // successful swap, if any) before the writes below.
  claim_.exchange(claim_word(job, UINT32_MAX), std::memory_order_acq_rel);
  n_tasks_.store(n_tasks, std::memory_order_relaxed);
  call_.store(call, std::memory_order_relaxed);
  ctx_.store(ctx, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  claim_.store(claim_word(job, 0), std::memory_order_release);  // publishes the fields above
  {
    std::lock_guard<std::mutex> lock(sleep_mutex_);  // a worker going to sleep sees it or wakes
    generation_.store(job, std::memory_order_release);
  }
  wake_cv_.notify_all();
  work_on(job);
  for (;;) {  // every task is claimed; wait until the claimed ones are finished
    const int64_t done = done_.load(std::memory_order_acquire);
    if (done == n_tasks) break;
    if (spin_while_equal(done_, done) == done) {
      std::unique_lock<std::mutex> lock(sleep_mutex_);
      done_cv_.wait(lock, [&] { return done_.load(std::memory_order_acquire) == n_tasks; });
    }
  }
}

}  // namespace laneway::cpu
