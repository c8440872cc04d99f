// A small fork-join pool for the compute kernels: n-1 persistent workers plus the calling thread.
// parallel_for(n_tasks, fn) runs fn(i) for every i in [0, n_tasks) and returns when all are done;
// tasks are claimed from one atomic counter. Workers spin briefly after a job (decode issues
// hundreds of small matmuls per token), then sleep on a condition variable (not
// std::atomic::wait: libstdc++ 12's can lose wake-ups). Nothing is allocated per call.
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
  void work_on_current_job();
  void worker_loop(uint32_t seen);

  std::vector<std::thread> workers_;
  std::mutex run_mutex_;                  // one job at a time
  std::mutex sleep_mutex_;                // guards the two condition variables below
  std::condition_variable wake_cv_;       // workers sleep here between jobs
  std::condition_variable done_cv_;       // the caller sleeps here until the workers are done
  std::atomic<uint32_t> generation_{0};   // bumped to start a job
  std::atomic<int64_t> next_task_{0};
  std::atomic<int> busy_workers_{0};      // workers not yet done with the current job
  std::atomic<bool> stop_{false};
  int64_t n_tasks_ = 0;                   // current job, written before generation_ is bumped
  task_fn call_ = nullptr;
  void* ctx_ = nullptr;
};

}  // namespace laneway::cpu
