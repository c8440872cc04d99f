// The laneway gateway as a child process of the bench: spawned with its stderr on a pipe that a
// reader thread drains for the whole run (the `listening` line gives the bound address, or, at
// log levels that hide it, /proc; later lines are counted and warn/error lines kept), polled on
// GET /ready, and always killed.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace laneway::bench {

class gateway_process {
 public:
  // Starts `binary args...` and waits (up to timeout_ms) for its `listening` line and then for
  // GET /ready to answer 200. Returns null and fills `why` when either does not happen in time.
  static std::unique_ptr<gateway_process> start(const std::string& binary, const std::vector<std::string>& args,
                                                int timeout_ms, std::string& why);
  ~gateway_process();  // stop()
  gateway_process(const gateway_process&) = delete;
  gateway_process& operator=(const gateway_process&) = delete;

  const std::string& host() const { return host_; }
  std::uint16_t port() const { return port_; }
  bool alive();                          // the process has not exited
  void stop();                           // SIGTERM, bounded wait, then SIGKILL; idempotent
  double cpu_seconds() const;            // user + system CPU time of the gateway so far (/proc)
  std::size_t log_lines() const;         // stderr lines read so far
  std::vector<std::string> problems() const;  // warn/error lines seen (the first few)

  // The pid of the running gateway, for a signal handler that must kill it (0 when none).
  static pid_t running_pid();

 private:
  gateway_process() = default;
  void read_stderr(int fd);

  pid_t pid_ = -1;
  std::string host_;
  std::uint16_t port_ = 0;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::string address_;  // from the listening line, under mutex_
  bool stderr_closed_ = false;
  std::size_t lines_ = 0;
  std::vector<std::string> problems_;
};

}  // namespace laneway::bench
