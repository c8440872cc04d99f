// Parsers for the memory figures `laneway ladder --pid` samples, one per source text, pure so
// the unit suite tests them on captured output (the macOS ones cannot run here). Sizes are bytes;
// nullopt when the text does not hold the figure.
#pragma once

#include <optional>
#include <string_view>

namespace laneway::ladder {

// Linux /proc/PID/status: "VmRSS:     123456 kB".
std::optional<long long> parse_proc_status_rss(std::string_view text);

struct linux_meminfo {
  long long available = 0;  // MemAvailable
  long long swap_used = 0;  // SwapTotal - SwapFree
};
// Linux /proc/meminfo (needs MemAvailable, SwapTotal and SwapFree).
std::optional<linux_meminfo> parse_proc_meminfo(std::string_view text);

// Linux /proc/pressure/memory: the "some" line's avg10 (percent of the last 10 s in which at
// least one task stalled on memory).
std::optional<double> parse_pressure_some_avg10(std::string_view text);

// macOS `ps -o rss= -p PID`: resident size in KiB.
std::optional<long long> parse_ps_rss(std::string_view text);

// macOS `vm_stat`: (Pages free + inactive + speculative) x the page size in its header — the
// memory the kernel can hand out without swapping or compressing.
std::optional<long long> parse_vm_stat_available(std::string_view text);

// macOS `sysctl vm.swapusage`: "vm.swapusage: total = 2048.00M  used = 1024.50M  free = ...".
std::optional<long long> parse_swapusage_used(std::string_view text);

// macOS `memory_pressure`: 100 - "System-wide memory free percentage: N%".
std::optional<double> parse_memory_pressure(std::string_view text);

}  // namespace laneway::ladder
