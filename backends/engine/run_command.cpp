// `laneway run`: load a model, tokenize the prompt (optionally through the chat template),
// prefill it in one batch, then decode one token per step with the sampler, streaming text
// through the UTF-8-safe detokenizer. Prompt and generation tokens/s go to stderr.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "backends/engine/chat_template.hpp"
#include "backends/engine/cli_args.hpp"
#include "backends/engine/commands.hpp"
#include "backends/engine/forward.hpp"
#include "backends/engine/kv_cache.hpp"
#include "backends/engine/model.hpp"
#include "backends/engine/sampler.hpp"
#include "backends/engine/tokenizer.hpp"

namespace laneway::engine {
namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

struct run_options {
  std::string model_path, prompt, template_name;
  int n_predict = 64;
  int n_threads = 0;
  int n_ctx = 0;
  bool chat = false;
  sampling_params sampling;
  uint64_t seed = 0;
};

int generate(const run_options& o) {
  const model m = model::open(o.model_path);
  const tokenizer tok = tokenizer::from_gguf(m.file());
  std::string text = o.prompt;
  if (o.chat) {
    const chat_template tmpl = chat_template::for_model(m.file(), o.template_name);
    const chat_message msg{"user", o.prompt};
    text = tmpl.apply(std::span<const chat_message>(&msg, 1), true);
  }
  const std::vector<token_id> prompt = tok.tokenize(text, true, o.chat);
  if (prompt.empty()) throw std::invalid_argument("the prompt has no tokens");
  const int64_t n_ctx = o.n_ctx > 0 ? o.n_ctx : static_cast<int64_t>(prompt.size()) + o.n_predict;
  if (static_cast<int64_t>(prompt.size()) + o.n_predict > n_ctx) {
    throw std::invalid_argument("prompt (" + std::to_string(prompt.size()) + " tokens) + -n " +
                                std::to_string(o.n_predict) + " exceeds the context " + std::to_string(n_ctx));
  }
  contiguous_kv_cache cache(kv_layout_for(m), 1, static_cast<int32_t>(n_ctx));
  cpu_forward fwd(m, cache, o.n_threads);
  sampler smp(o.sampling, static_cast<int32_t>(m.hparams().n_vocab));
  smp.accept_prompt(prompt);
  stream_detokenizer detok(tok);

  batch b;
  for (std::size_t i = 0; i < prompt.size(); ++i) b.add(prompt[i], static_cast<int32_t>(i), 0, i + 1 == prompt.size());
  const auto t_prompt = clock_type::now();
  auto logits = fwd.decode(b);
  const double prompt_s = seconds_since(t_prompt);

  const auto t_gen = clock_type::now();
  int n_gen = 0;
  int32_t pos = static_cast<int32_t>(prompt.size());
  std::string out;
  for (; n_gen < o.n_predict; ++n_gen) {
    const int32_t next = smp.sample(logits).token;
    if (tok.is_eog(next)) break;
    out.clear();
    detok.push(next, out);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    if (n_gen + 1 == o.n_predict) {
      ++n_gen;
      break;
    }
    b.clear();
    b.add(next, pos++, 0, true);
    logits = fwd.decode(b);
  }
  out.clear();
  detok.finish(out);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  const double gen_s = seconds_since(t_gen);
  std::fprintf(stderr, "prompt: %zu tokens in %.3f s (%.1f tokens/s)\n", prompt.size(), prompt_s,
               prompt.size() / std::max(prompt_s, 1e-9));
  std::fprintf(stderr, "generation: %d tokens in %.3f s (%.1f tokens/s), %d threads\n", n_gen, gen_s,
               n_gen / std::max(gen_s, 1e-9), fwd.n_threads());
  return 0;
}

}  // namespace

int run_command(int argc, char** argv) {
  CLI::App app{"Generate text from a prompt with a GGUF model on the CPU", "laneway run"};
  run_options o;
  float temp = 0.0f;
  app.add_option("-m,--model", o.model_path, "GGUF model file")->required();
  app.add_option("-p,--prompt", o.prompt, "prompt text")->required();
  app.add_option("-n,--n-predict", o.n_predict, "tokens to generate")->check(CLI::Range(1, 1 << 20));
  app.add_flag("--chat", o.chat, "wrap the prompt as a user message in the model's chat template");
  app.add_option("--template", o.template_name, "chat template by name (chatml, llama3, plain)");
  app.add_option("-t,--threads", o.n_threads, "compute threads (default: one per hardware thread)");
  app.add_option("-c,--ctx", o.n_ctx, "context size (default: prompt + -n)");
  app.add_option("--temp", temp, "temperature (0 = greedy, the default)");
  app.add_option("--top-k", o.sampling.top_k, "top-k (0 = off)");
  app.add_option("--top-p", o.sampling.top_p, "top-p (1 = off)");
  app.add_option("--min-p", o.sampling.min_p, "min-p (0 = off)");
  app.add_option("--repeat-penalty", o.sampling.repetition_penalty, "repetition penalty (1 = off)");
  app.add_option("--presence-penalty", o.sampling.presence_penalty, "presence penalty");
  app.add_option("--frequency-penalty", o.sampling.frequency_penalty, "frequency penalty");
  auto* seed_opt = app.add_option("-s,--seed", o.seed, "random seed (reproducible sampling)");
  if (auto exit_code = parse_command_line(app, argc, argv, 1)) return *exit_code;
  o.sampling.temperature = temp;
  if (*seed_opt) o.sampling.seed = o.seed;
  if (const auto err = validate(o.sampling)) {
    std::fprintf(stderr, "laneway run: %s\n", err->message.c_str());
    return 1;
  }
  try {
    return generate(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "laneway run: %s\n", e.what());
    return 1;
  }
}

}  // namespace laneway::engine
