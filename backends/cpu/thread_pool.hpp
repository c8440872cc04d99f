// A small fork-join pool for the compute kernels: n-1 persistent workers plus the calling thread.
// parallel_for(n_tasks, fn) runs fn(i) for every i in [0, n_tasks) and returns when all are done.
// Tasks are claimed from one atomic word that also carries the job's generation, so a worker
// that was descheduled and wakes after the job is over cannot claim anything, and the caller
// waits only for tasks that were claimed, never for a worker to notice the job (on a shared
// machine a worker can sit on a run queue for milliseconds; decode issues ~150 jobs per token).
// Workers spin briefly after a job, then sleep on a condition variable (not std::atomic::wait:
// libstdc++ 12's can lose wake-ups). Nothing is allocated per call.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace laneway::cpu {

class thread_pool {
 public:
  // n_threads: total threads working on a parallel_for, the caller included; <= 0 means one per
  // hardware thread.
  explicit thread_pool(int n_threads);
  ~thread_pool();
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // fn: callable as fn(int64_t task). Calls from several threads at once are serialized.
  template <class F>
  void parallel_for(int64_t n_tasks, F&& fn) {
    using fn_t = std::remove_reference_t<F>;
    run(n_tasks, [](void* ctx, int64_t i) { (*static_cast<fn_t*>(ctx))(i); },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }

 private:
  using task_fn = void (*)(void* ctx, int64_t task);
  void run(int64_t n_tasks, task_fn call, void* ctx);
  void work_on(uint32_t job);
  void worker_loop();

  std::vector<std::thread> workers_;
  std::mutex run_mutex_;                  // one job at a time
  std::mutex sleep_mutex_;                // guards the two condition variables below
  std::condition_variable wake_cv_;       // workers sleep here between jobs
  std::condition_variable done_cv_;       // the caller sleeps here until the tasks are done
  std::atomic<uint32_t> generation_{0};   // the latest job's number; workers wait on it
  std::atomic<uint64_t> claim_{0};        // job number << 32 | next task index
  std::atomic<int64_t> done_{0};          // tasks of the current job finished
  std::atomic<bool> stop_{false};
  // The current job, written before claim_ publishes it. Atomic (relaxed) because a late worker
  // may read them while the next job is being set up; it then fails to claim and drops them.
  std::atomic<int64_t> n_tasks_{0};
  std::atomic<task_fn> call_{nullptr};
  std::atomic<void*> ctx_{nullptr};
};

}  // namespace laneway::cpu
