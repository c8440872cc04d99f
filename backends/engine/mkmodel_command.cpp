// `laneway mkmodel`: flags -> mkmodel_options -> make_random_model, with a one-line summary.
// Exit 0; 2 for bad flags (message names the flag); 1 when the vocab file cannot be read or the
// output cannot be written.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>

#include "backends/engine/commands.hpp"
#include "backends/engine/cli_args.hpp"
#include "backends/engine/gguf_writer.hpp"
#include "backends/engine/mkmodel.hpp"

namespace laneway::engine {

int mkmodel_command(int argc, char** argv) {
  CLI::App app{"Write a GGUF model with seeded random weights and a real vocabulary", "laneway mkmodel"};
  mkmodel_options o;
  std::string type_name = "Q8_0";
  app.add_option("--arch", o.arch, "llama | qwen2 | qwen3")->required();
  app.add_option("--vocab", o.vocab_path, "GGUF file to copy the tokenizer.* keys from")->required();
  app.add_option("--layers", o.layers, "number of blocks")->required();
  app.add_option("--embd", o.embd, "embedding length")->required();
  app.add_option("--heads", o.heads, "attention heads (default embd/64)");
  app.add_option("--kv-heads", o.kv_heads, "key/value heads (default: heads)");
  app.add_option("--head-dim", o.head_dim, "head size (default embd/heads)");
  app.add_option("--ff", o.ff, "feed-forward length (default 8/3 embd, rounded up to 256)");
  app.add_option("--ctx", o.ctx, "context length written to the metadata")->capture_default_str();
  app.add_option("--type", type_name, "weight type: F32 F16 BF16 Q8_0 Q4_0 Q4_K Q5_K Q6_K")->capture_default_str();
  app.add_option("--seed", o.seed, "generator seed (same seed, same file)")->capture_default_str();
  app.add_flag("--tied", o.tied, "no output.weight: the output projection reuses token_embd");
  app.add_option("-t,--threads", o.threads, "threads generating and quantizing")->capture_default_str();
  app.add_option("-o,--out", o.out, "output GGUF file")->required();
  if (auto exit_code = parse_command_line(app, argc, argv, 2)) return *exit_code;
  const auto type = parse_weight_type(type_name);
  if (!type) {
    std::fprintf(stderr, "laneway mkmodel: --type must be one of F32 F16 BF16 Q8_0 Q4_0 Q4_K Q5_K Q6_K, got '%s'\n",
                 type_name.c_str());
    return 2;
  }
  o.type = *type;
  if (const auto err = resolve_mkmodel_options(o)) {
    std::fprintf(stderr, "laneway mkmodel: %s\n", err->c_str());
    return 2;
  }
  const auto t0 = std::chrono::steady_clock::now();
  try {
    const mkmodel_result r = make_random_model(o);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf(
        "wrote %s: %s, %lld layers, embd %lld, heads %lld/%lld x %lld, ff %lld, vocab %lld, %s%s, "
        "%.1fM params, %.1f MiB in %.1f s\n",
        o.out.c_str(), o.arch.c_str(), static_cast<long long>(o.layers), static_cast<long long>(o.embd),
        static_cast<long long>(o.heads), static_cast<long long>(o.kv_heads), static_cast<long long>(o.head_dim),
        static_cast<long long>(o.ff), static_cast<long long>(r.n_vocab), type_name.c_str(), o.tied ? ", tied" : "",
        static_cast<double>(r.n_params) / 1e6, static_cast<double>(r.file_bytes) / (1 << 20), s);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "laneway mkmodel: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace laneway::engine
