// bench_matmul: GFLOP/s and effective weight GB/s of the fast matmul for Qwen3-0.6B-shaped
// matrices (1024 -> 3072 and 1024 -> 1024) per weight type, n_tokens 1 / 8 / 512, threads 1 / 2,
// and the speed-up over ref::matmul. Prints numbers only; no timing assertions.
//   bench_matmul [--smoke] [--isa scalar|avx2] [--types q8_0,f16] [--tokens 1,8] [--threads 1,2]
//                [--shape 1024x65536] [--stream]   (--stream: plain memory read bandwidth only)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/matmul.hpp"
#include "backends/cpu/reference.hpp"

using namespace laneway::cpu;

namespace {

std::vector<int64_t> parse_ints(const char* s) {
  std::vector<int64_t> v;
  for (const char* p = s; *p;) {
    char* end = nullptr;
    v.push_back(std::strtoll(p, &end, 10));
    if (end == p || *end != ',') break;
    p = end + 1;
  }
  return v;
}

std::vector<dtype> parse_types(const std::string& s) {
  const dtype all[] = {dtype::f32, dtype::f16, dtype::bf16, dtype::q8_0,
                       dtype::q4_0, dtype::q4_k, dtype::q5_k, dtype::q6_k};
  std::vector<dtype> v;
  for (dtype t : all) {
    if (s.empty() || ("," + s + ",").find("," + std::string(traits(t).name) + ",") != std::string::npos) {
      v.push_back(t);
    }
  }
  return v;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// CPU time of the whole process (all threads), so that time spent descheduled while other jobs
// share the machine does not count.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

struct timing {
  double wall;  // median wall seconds per run
  double cpu;   // median process CPU seconds per run (all threads; spinning included)
};

// Medians over `reps` runs of fn (after one warm-up), stopping early past ~1 s in total.
template <class F>
timing time_median(int reps, F&& fn) {
  fn();
  std::vector<double> wall, cpu;
  const auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = process_cpu_seconds();
    fn();
    cpu.push_back(process_cpu_seconds() - c0);
    wall.push_back(seconds_since(t0));
    if (seconds_since(start) > 1.0 && wall.size() >= 3) break;
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

// The machine's ceiling for decode: GB/s of a plain read over 256 MiB, split over the pool.
void bench_stream(const std::vector<int64_t>& threads) {
  const size_t n = size_t{256} << 20;
  std::vector<uint64_t> buf(n / 8, 1);  // buf: [n / 8] words
  for (int64_t n_threads : threads) {
    thread_pool pool(static_cast<int>(n_threads));
    const int64_t n_tasks = 64;
    std::vector<uint64_t> sums(n_tasks);
    const timing tm = time_median(5, [&] {
      pool.parallel_for(n_tasks, [&](int64_t task) {
        const size_t words = buf.size() / n_tasks;
        const uint64_t* p = buf.data() + task * words;
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (size_t i = 0; i + 4 <= words; i += 4) {
          s0 += p[i];
          s1 += p[i + 1];
          s2 += p[i + 2];
          s3 += p[i + 3];
        }
        sums[task] = s0 + s1 + s2 + s3;
      });
    });
    std::printf("stream read %zu MiB, %lld threads: %.2f GB/s (wall), %.2f GB/s per CPU-second\n",
                n >> 20, static_cast<long long>(n_threads), n / tm.wall * 1e-9, n / tm.cpu * 1e-9);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false, stream = false;
  std::string types_arg;
  std::vector<int64_t> tokens = {1, 8, 512}, threads = {1, 2};
  std::vector<std::pair<int64_t, int64_t>> shapes = {{1024, 3072}, {1024, 1024}};  // n_in, n_out
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--smoke") {
      smoke = true;
    } else if (a == "--stream") {
      stream = true;
    } else if (a == "--isa" && i + 1 < argc) {
      const std::string v = argv[++i];
      force_isa(v == "scalar" ? isa::scalar : v == "neon" ? isa::neon : v == "avx512" ? isa::avx512 : isa::avx2);
    } else if (a == "--types" && i + 1 < argc) {
      types_arg = argv[++i];
    } else if (a == "--tokens" && i + 1 < argc) {
      tokens = parse_ints(argv[++i]);
    } else if (a == "--threads" && i + 1 < argc) {
      threads = parse_ints(argv[++i]);
    } else if (a == "--shape" && i + 1 < argc) {  // N_INxN_OUT, e.g. 1024x65536 (beyond L3)
      const auto v = parse_ints(argv[++i]);  // "1024x65536" parses as 1024 then stops at 'x'
      const char* x = std::strchr(argv[i], 'x');
      shapes = {{v.at(0), x ? std::strtoll(x + 1, nullptr, 10) : v.at(0)}};
    } else {
      std::fprintf(stderr, "usage: bench_matmul [--smoke] [--isa scalar|avx2|avx512|neon] [--types a,b] "
                           "[--tokens 1,8,512] [--threads 1,2] [--shape NINxNOUT] [--stream]\n");
      return 2;
    }
  }
  if (stream) {
    bench_stream(threads);
    return 0;
  }
  if (smoke) {
    shapes = {{256, 64}};
    tokens = {1, 3};
    threads = {1, 2};
  }
  const int reps = smoke ? 2 : 20;
  std::printf("isa %s\n", isa_name(active_isa()));
  // ms: median wall time; GFLOP/s and GB/s(w) (weight bytes / time) from it; cpu-GF/s: GFLOP
  // per CPU-second per thread (robust when other jobs share the cores); vs ref: wall speed-up.
  std::printf("%-5s %5s %5s %6s %3s %9s %8s %8s %9s %8s\n", "type", "n_in", "n_out", "tokens",
              "thr", "ms", "GFLOP/s", "GB/s(w)", "cpuGF/s/t", "vs ref");
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (const auto& [n_in, n_out] : shapes) {
    std::vector<float> wf(static_cast<size_t>(n_in * n_out));  // wf: [n_out, n_in]
    for (auto& v : wf) v = dist(rng) * 0.05f;
    const int64_t max_tokens = *std::max_element(tokens.begin(), tokens.end());
    std::vector<float> x(static_cast<size_t>(max_tokens * n_in));  // x: [max_tokens, n_in]
    for (auto& v : x) v = dist(rng);
    std::vector<float> y(static_cast<size_t>(max_tokens * n_out));  // y: [max_tokens, n_out]
    for (dtype t : parse_types(types_arg)) {
      const size_t stride = row_bytes(t, n_in);
      std::vector<uint8_t> wq(stride * static_cast<size_t>(n_out));
      for (int64_t o = 0; o < n_out; ++o) quantize_row(t, wf.data() + o * n_in, wq.data() + o * stride, n_in);
      const weight_view w{t, wq.data(), n_out, n_in};
      // The reference is linear in tokens: time it on at most 8 tokens and scale.
      const int64_t ref_tokens = std::min<int64_t>(8, max_tokens);
      const double ref_per_token =
          time_median(smoke ? 1 : 2, [&] { ref::matmul(w, x.data(), ref_tokens, y.data()); }).wall /
          static_cast<double>(ref_tokens);
      for (int64_t n_threads : threads) {
        thread_pool pool(static_cast<int>(n_threads));
        for (int64_t n_tokens : tokens) {
          const timing tm = time_median(reps, [&] { matmul(w, x.data(), n_tokens, y.data(), pool); });
          const double s = tm.wall;
          const double flops = 2.0 * static_cast<double>(n_in) * n_out * n_tokens;
          std::printf("%-5s %5lld %5lld %6lld %3lld %9.3f %8.2f %8.2f %9.2f %7.1fx\n", traits(t).name,
                      static_cast<long long>(n_in), static_cast<long long>(n_out),
                      static_cast<long long>(n_tokens), static_cast<long long>(n_threads), s * 1e3,
                      flops / s * 1e-9, static_cast<double>(wq.size()) / s * 1e-9,
                      flops / (tm.cpu > 0 ? tm.cpu : s) * 1e-9,
                      ref_per_token * n_tokens / s);
        }
      }
    }
  }
  return 0;
}
