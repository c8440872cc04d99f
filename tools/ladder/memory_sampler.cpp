// sample_memory and the sampling thread (see memory_sampler.hpp). On Linux every figure is a
// /proc read; on macOS each is a short command read through popen.
#include "tools/ladder/memory_sampler.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "tools/ladder/memory_parse.hpp"

namespace laneway::ladder {

namespace {

[[maybe_unused]] std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// stdout of a fixed command line (no user text is ever put into it but a pid number).
[[maybe_unused]] std::string command_output(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>/dev/null").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0 && out.size() < (1 << 20)) out.append(buf, n);
  ::pclose(p);
  return out;
}

}  // namespace

memory_sample sample_memory(const std::vector<int>& pids) {
  memory_sample s;
#if defined(__linux__)
  if (auto m = parse_proc_meminfo(read_file("/proc/meminfo"))) {
    s.available_bytes = m->available;
    s.swap_used_bytes = m->swap_used;
  }
  if (auto p = parse_pressure_some_avg10(read_file("/proc/pressure/memory"))) s.pressure = *p;
  for (int pid : pids) s.rss_bytes.push_back(parse_proc_status_rss(read_file("/proc/" + std::to_string(pid) + "/status")).value_or(-1));
#elif defined(__APPLE__)
  if (auto a = parse_vm_stat_available(command_output("vm_stat"))) s.available_bytes = *a;
  if (auto u = parse_swapusage_used(command_output("sysctl vm.swapusage"))) s.swap_used_bytes = *u;
  if (auto p = parse_memory_pressure(command_output("memory_pressure"))) s.pressure = *p;
  for (int pid : pids) s.rss_bytes.push_back(parse_ps_rss(command_output("ps -o rss= -p " + std::to_string(pid))).value_or(-1));
#else
  s.rss_bytes.assign(pids.size(), -1);
#endif
  return s;
}

memory_sampler::memory_sampler(std::vector<int> pids, std::chrono::milliseconds interval)
    : pids_(std::move(pids)), interval_(interval) {}

memory_sampler::~memory_sampler() { stop(); }

void memory_sampler::start() {
  start_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this] { loop(); });
}

void memory_sampler::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<memory_sample> memory_sampler::series() const {
  std::lock_guard lock(mu_);
  return series_;
}

memory_sample memory_sampler::latest() const {
  std::lock_guard lock(mu_);
  if (series_.empty()) {
    memory_sample none;
    none.t_s = -1;
    return none;
  }
  return series_.back();
}

void memory_sampler::loop() {
  auto next = start_;
  for (;;) {
    auto s = sample_memory(pids_);
    s.t_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::unique_lock lock(mu_);
    series_.push_back(std::move(s));
    next += interval_;
    if (wake_.wait_until(lock, next, [this] { return stop_; })) return;
  }
}

}  // namespace laneway::ladder
