// thread_pool: job hand-off through a generation counter (spin, then a condition variable).
#include "backends/cpu/thread_pool.hpp"

#include <chrono>

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
}  // namespace

thread_pool::thread_pool(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::thread::hardware_concurrency());
  if (n_threads <= 0) n_threads = 1;
  workers_.reserve(static_cast<size_t>(n_threads - 1));
  for (int i = 1; i < n_threads; ++i) workers_.emplace_back([this] { worker_loop(0); });
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

void thread_pool::work_on_current_job() {
  for (;;) {
    const int64_t i = next_task_.fetch_add(1, std::memory_order_relaxed);
    if (i >= n_tasks_) return;
    call_(ctx_, i);
  }
}

// seen: the generation at construction, before any job (a worker that starts late must still
// take part in the first job).
void thread_pool::worker_loop(uint32_t seen) {
  for (;;) {
    uint32_t g = spin_while_equal(generation_, seen);
    if (g == seen) {
      std::unique_lock<std::mutex> lock(sleep_mutex_);
      wake_cv_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      g = generation_.load(std::memory_order_acquire);
    }
    seen = g;
    if (stop_.load(std::memory_order_acquire)) return;
    work_on_current_job();
    if (busy_workers_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(sleep_mutex_);  // the caller checks under this lock
      done_cv_.notify_one();
    }
  }
}

void thread_pool::run(int64_t n_tasks, task_fn call, void* ctx) {
  if (n_tasks <= 0) return;
  if (workers_.empty() || n_tasks == 1) {
    for (int64_t i = 0; i < n_tasks; ++i) call(ctx, i);
    return;
  }
  std::lock_guard<std::mutex> lock(run_mutex_);
  n_tasks_ = n_tasks;
  call_ = call;
  ctx_ = ctx;
  next_task_.store(0, std::memory_order_relaxed);
  busy_workers_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(sleep_mutex_);  // a worker going to sleep sees it or wakes
    generation_.fetch_add(1, std::memory_order_release);  // publishes the job
  }
  wake_cv_.notify_all();
  work_on_current_job();
  for (;;) {  // wait for every worker to leave the job before its fields can change
    int busy = busy_workers_.load(std::memory_order_acquire);
    if (busy == 0) break;
    if (spin_while_equal(busy_workers_, busy) == busy) {
      std::unique_lock<std::mutex> lock(sleep_mutex_);
      done_cv_.wait(lock, [&] { return busy_workers_.load(std::memory_order_acquire) == 0; });
    }
  }
}

}  // namespace laneway::cpu
