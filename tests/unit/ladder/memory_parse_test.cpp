// Memory parsers on captured text: Linux /proc files, and the macOS commands (vm_stat, sysctl
// vm.swapusage, memory_pressure, ps), which cannot run here; plus one live Linux sample.
#include <doctest/doctest.h>

#include <unistd.h>

#include "tools/ladder/memory_parse.hpp"
#include "tools/ladder/memory_sampler.hpp"

using namespace laneway::ladder;

namespace {

const char* proc_status =
    "Name:\tlaneway\nUmask:\t0022\nState:\tS (sleeping)\nVmPeak:\t  812340 kB\nVmSize:\t  811000 kB\n"
    "VmHWM:\t   60012 kB\nVmRSS:\t   52344 kB\nRssAnon:\t   40000 kB\nThreads:\t5\n";

const char* meminfo =
    "MemTotal:       24570000 kB\nMemFree:        21000000 kB\nMemAvailable:   22500000 kB\nBuffers:          100000 kB\n"
    "Cached:          1500000 kB\nSwapCached:            0 kB\nSwapTotal:       2097148 kB\nSwapFree:        1048574 kB\n";

const char* pressure =
    "some avg10=1.53 avg60=0.87 avg300=0.20 total=123456\nfull avg10=0.40 avg60=0.00 avg300=0.00 total=2345\n";

// macOS 14 on an Apple Silicon Mac (16 KiB pages).
const char* vm_stat =
    "Mach Virtual Memory Statistics: (page size of 16384 bytes)\n"
    "Pages free:                               14120.\n"
    "Pages active:                            450321.\n"
    "Pages inactive:                          437914.\n"
    "Pages speculative:                         6231.\n"
    "Pages throttled:                              0.\n"
    "Pages wired down:                        151032.\n"
    "Pages purgeable:                          21405.\n"
    "\"Translation faults\":                 912340233.\n"
    "Pages copy-on-write:                   12039222.\n"
    "Pages stored in compressor:              612034.\n"
    "Pages occupied by compressor:            201234.\n"
    "Swapins:                                      0.\n"
    "Swapouts:                                     0.\n";

const char* swapusage = "vm.swapusage: total = 2048.00M  used = 1126.25M  free = 921.75M  (encrypted)\n";

const char* memory_pressure =
    "The system has 17179869184 (1048576 pages with a page size of 16384).\n\nStats: \nPages free: 14120 \n"
    "Pages purgeable: 21405 \nPages purged: 2211201 \n\nSwap I/O:\nSwapins: 0 \nSwapouts: 0 \n\n"
    "Page Q counts:\nPages active: 450321 \nPages inactive: 437914 \n\n"
    "System-wide memory free percentage: 62%\n";

}  // namespace

TEST_SUITE("ladder") {
  TEST_CASE("memory: Linux /proc parsers") {
    CHECK(parse_proc_status_rss(proc_status) == 52344LL * 1024);
    CHECK(parse_proc_status_rss("VmRSS:  10 kB\n") == 10LL * 1024);  // the first line too
    CHECK_FALSE(parse_proc_status_rss("Name:\tkthreadd\nState:\tS\n"));  // kernel threads have none
    auto m = parse_proc_meminfo(meminfo);
    REQUIRE(m);
    CHECK(m->available == 22500000LL * 1024);
    CHECK(m->swap_used == (2097148LL - 1048574LL) * 1024);
    CHECK_FALSE(parse_proc_meminfo("MemTotal: 1 kB\nMemFree: 1 kB\n"));  // pre-3.14 kernels: no MemAvailable
    CHECK(parse_pressure_some_avg10(pressure) == doctest::Approx(1.53));
    CHECK_FALSE(parse_pressure_some_avg10(""));
  }

  TEST_CASE("memory: macOS command parsers on captured output") {
    CHECK(parse_ps_rss("  52344\n") == 52344LL * 1024);
    CHECK_FALSE(parse_ps_rss(""));  // the process is gone: ps prints nothing
    CHECK(parse_vm_stat_available(vm_stat) == (14120LL + 437914 + 6231) * 16384);
    CHECK_FALSE(parse_vm_stat_available("Pages free: 1.\n"));  // no page size header
    CHECK(parse_swapusage_used(swapusage) == static_cast<long long>(1126.25 * 1024 * 1024));
    CHECK(parse_swapusage_used("vm.swapusage: total = 0.00M  used = 0.00M  free = 0.00M  (encrypted)") == 0);
    CHECK_FALSE(parse_swapusage_used("vm.swapusage: total = 0.00M"));
    CHECK(parse_memory_pressure(memory_pressure) == doctest::Approx(38.0));
    CHECK_FALSE(parse_memory_pressure("The system has 17179869184"));
  }

#if defined(__linux__)
  TEST_CASE("memory: a live sample of this process and the machine") {
    auto s = sample_memory({static_cast<int>(::getpid()), 0x3fffffff});
    CHECK(s.available_bytes > 0);
    CHECK(s.swap_used_bytes >= 0);
    REQUIRE(s.rss_bytes.size() == 2);
    CHECK(s.rss_bytes[0] > 1024 * 1024);
    CHECK(s.rss_bytes[1] == -1);  // no such process
  }
#endif
}
