// Memory over time for `laneway ladder --pid`: a background thread that every second records
// each local server process's RSS and the machine's available memory, swap used and memory
// pressure (Linux: /proc; macOS: ps, vm_stat, sysctl vm.swapusage, memory_pressure). It runs on
// its own thread because the macOS figures come from child processes, which must not block the
// clients' io_context.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace laneway::ladder {

struct memory_sample {
  double t_s = 0;                  // since the run started
  long long available_bytes = -1;  // -1: unknown on this platform
  long long swap_used_bytes = -1;
  double pressure = -1;            // Linux PSI some avg10 %; macOS 100 - free %; -1 unknown
  std::vector<long long> rss_bytes;  // one per --pid, -1 when the process is gone or unreadable
};

// One sample now (blocking: reads files or runs commands).
memory_sample sample_memory(const std::vector<int>& pids);

class memory_sampler {
 public:
  memory_sampler(std::vector<int> pids, std::chrono::milliseconds interval);
  ~memory_sampler();  // stops the thread
  void start();
  void stop();
  std::vector<memory_sample> series() const;
  memory_sample latest() const;  // t_s < 0 when nothing was sampled yet

 private:
  void loop();
  std::vector<int> pids_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point start_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::vector<memory_sample> series_;
  std::thread thread_;
};

}  // namespace laneway::ladder
