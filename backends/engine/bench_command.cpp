// `laneway bench`: llama-bench-style throughput of a forward backend (--backend, default the CPU)
// on a model file.
//   pp N: one sequence, an N-token prompt in chunks of --ubatch tokens, tokens/s of the prefill.
//   tg N at batch B: B sequences decode N tokens together (one token each per step, from an empty
//   context, as llama-bench's tg), aggregate tokens/s = B * N / time.
// Token ids are deterministic pseudo-random ids of the vocabulary. A short warm-up step runs first.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backends/cpu/matmul.hpp"
#include "backends/engine/backend_registry.hpp"
#include "backends/engine/commands.hpp"
#include "backends/engine/cli_args.hpp"
#include "backends/engine/forward.hpp"
#include "backends/engine/kv_cache.hpp"
#include "backends/engine/model.hpp"

namespace laneway::engine {
namespace {

using clock_type = std::chrono::steady_clock;

struct bench_row {
  std::string test;  // "pp512", "tg128"
  int batch = 1;
  double tokens_per_s = 0;
};

int32_t token_at(int64_t i, int64_t n_vocab) {
  uint64_t s = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(i + 1);
  s ^= s >> 29;
  return static_cast<int32_t>(s % static_cast<uint64_t>(n_vocab));
}

double time_pp(const model& m, const backend_choice& be, int n_prompt, int ubatch, int n_threads) {
  contiguous_kv_cache cache(kv_layout_for(m), 1, n_prompt);
  const auto backend = create_backend(be, m, cache, n_threads);
  forward_backend& fwd = *backend;
  batch b;
  b.add(token_at(0, m.hparams().n_vocab), 0, 0, true);
  fwd.decode(b);  // warm-up (also sizes the scratch)
  const auto t0 = clock_type::now();
  for (int start = 0; start < n_prompt; start += ubatch) {
    b.clear();
    const int end = std::min(n_prompt, start + ubatch);
    for (int i = start; i < end; ++i) b.add(token_at(i, m.hparams().n_vocab), i, 0, i + 1 == end);
    fwd.decode(b);
  }
  return n_prompt / std::chrono::duration<double>(clock_type::now() - t0).count();
}

double time_tg(const model& m, const backend_choice& be, int n_gen, int n_batch, int n_threads) {
  contiguous_kv_cache cache(kv_layout_for(m), n_batch, n_gen);
  const auto backend = create_backend(be, m, cache, n_threads);
  forward_backend& fwd = *backend;
  batch b;
  for (int s = 0; s < n_batch; ++s) b.add(token_at(s, m.hparams().n_vocab), 0, s, true);
  fwd.decode(b);  // warm-up: position 0, rewritten below
  const auto t0 = clock_type::now();
  for (int p = 0; p < n_gen; ++p) {
    b.clear();
    for (int s = 0; s < n_batch; ++s) b.add(token_at(p * n_batch + s, m.hparams().n_vocab), p, s, true);
    fwd.decode(b);
  }
  return static_cast<double>(n_gen) * n_batch / std::chrono::duration<double>(clock_type::now() - t0).count();
}

std::vector<int> parse_batches(const std::string& list) {
  std::vector<int> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    const std::string item = list.substr(start, comma - start);
    std::size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || item.empty() || v < 1 || v > 256) {
      throw std::invalid_argument("-b: '" + item + "' is not a batch size in [1, 256]");
    }
    out.push_back(v);
    start = comma + 1;
  }
  return out;
}

}  // namespace

int bench_command(int argc, char** argv) {
  CLI::App app{"Prefill and decode throughput of a forward backend (llama-bench pp/tg)", "laneway bench"};
  std::string model_path, batches = "1,2,4,8", backend_name = "cpu";
  int n_threads = 0, n_prompt = 512, n_gen = 128, ubatch = 512;
  bool json = false;
  app.add_option("-m,--model", model_path, "GGUF model file")->required();
  app.add_option("-t,--threads", n_threads, "compute threads (default: one per hardware thread)");
  app.add_option("-p,--n-prompt", n_prompt, "prompt tokens for pp (0 = skip)")->check(CLI::Range(0, 1 << 16));
  app.add_option("-n,--n-gen", n_gen, "generated tokens per sequence for tg (0 = skip)")->check(CLI::Range(0, 1 << 16));
  app.add_option("-b,--batch", batches, "decode batch sizes, comma separated");
  app.add_option("-u,--ubatch", ubatch, "prefill chunk size")->check(CLI::Range(1, 1 << 16));
  app.add_option("--backend", backend_name, "cpu | vulkan | metal | auto (default cpu)");
  app.add_flag("--json", json, "one JSON object per row");
  if (auto exit_code = parse_command_line(app, argc, argv, 1)) return *exit_code;
  try {
    const auto batch_sizes = parse_batches(batches);
    const backend_choice be = choose_backend(backend_name);
    if (!be.note.empty()) std::fprintf(stderr, "laneway bench: %s\n", be.note.c_str());
    const model m = model::open(model_path);
    const auto& hp = m.hparams();
    cpu::thread_pool probe(n_threads);
    const int threads = probe.size();
    if (!json) {
      std::printf("model: %s (%s, %lld layers, width %lld, %s, %.1f MiB of weights), isa %s\n", model_path.c_str(),
                  std::string(to_string(hp.arch)).c_str(), static_cast<long long>(hp.n_layer),
                  static_cast<long long>(hp.n_embd), cpu::traits(m.main_type()).name, m.weight_bytes() / 1048576.0,
                  cpu::isa_name(cpu::active_isa()));
      std::printf("backend: %s on %s\n", be.name.c_str(), be.device.c_str());
      std::printf("| %-8s | %7s | %5s | %12s |\n", "test", "threads", "batch", "tokens/s");
      std::printf("|----------|---------|-------|--------------|\n");
    }
    auto report = [&](const bench_row& r) {
      if (json) {
        nlohmann::json j = {{"test", r.test}, {"batch", r.batch}, {"tokens_per_s", r.tokens_per_s},
                            {"threads", threads}, {"model", model_path}, {"backend", be.name}, {"device", be.device}};
        std::printf("%s\n", j.dump().c_str());
      } else {
        std::printf("| %-8s | %7d | %5d | %12.2f |\n", r.test.c_str(), threads, r.batch, r.tokens_per_s);
      }
      std::fflush(stdout);
    };
    if (n_prompt > 0) report({"pp" + std::to_string(n_prompt), 1, time_pp(m, be, n_prompt, ubatch, threads)});
    if (n_gen > 0) {
      for (int bs : batch_sizes) report({"tg" + std::to_string(n_gen), bs, time_tg(m, be, n_gen, bs, threads)});
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "laneway bench: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace laneway::engine
