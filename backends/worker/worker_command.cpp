// `laneway worker`: flags override the TOML file (-c); without a file, defaults plus flags.
#include <CLI/CLI.hpp>
#include <boost/system/system_error.hpp>
#include <cstdio>

#include "backends/engine/gguf.hpp"
#include "backends/worker/commands.hpp"
#include "backends/worker/worker.hpp"
#include "backends/worker/worker_config.hpp"
#include "gateway/http/config_reader.hpp"

namespace laneway::worker {

int worker_command(int argc, char** argv) {
  CLI::App app{"Serve a GGUF model over the OpenAI API: continuous batching, paged KV cache with prefix caching.",
               "laneway worker"};
  std::string config_path, model, host, name, tmpl, kv_memory, kv_type, log_level, backend;
  int port = -1, threads = -1, io_threads = 0, block_size = 0, max_seqs = 0, max_model_len = -1, step_tokens = 0;
  int64_t kv_blocks = -1;
  bool check = false, no_prefix_caching = false, print_keys = false;
  app.add_option("-c,--config", config_path, "TOML config file (see conf/worker.toml)");
  app.add_option("-m,--model", model, "GGUF model file (default: the bundled stories260K.gguf)");
  app.add_option("--name", name, "model name served in the API (default: the file name)");
  app.add_option("--host", host, "listen address (default 127.0.0.1)");
  app.add_option("--port", port, "listen port; 0 picks a free one (default 8081)")->check(CLI::Range(0, 65535));
  app.add_option("--threads,-t", threads, "forward-pass threads; 0 = all cores")->check(CLI::Range(0, 1024));
  app.add_option("--backend", backend, "auto | cpu | vulkan | metal (default auto: a GPU if present, else the CPU)");
  app.add_option("--io-threads", io_threads, "HTTP I/O threads (default 2)")->check(CLI::Range(1, 256));
  app.add_option("--kv-memory", kv_memory, "KV pool size, e.g. 2GiB (default 1GiB)");
  app.add_option("--kv-blocks", kv_blocks, "KV pool size in blocks (overrides --kv-memory)")->check(CLI::Range(int64_t{1}, int64_t{1} << 32));
  app.add_option("--kv-type", kv_type, "f16 | f32 (default f16)");
  app.add_option("--block-size", block_size, "tokens per KV block (default 16)")->check(CLI::Range(1, 1024));
  app.add_option("--max-seqs", max_seqs, "sequences running at once (default 16)")->check(CLI::Range(1, 4096));
  app.add_option("--max-model-len", max_model_len, "prompt + completion tokens per request (default: model's context)")
      ->check(CLI::Range(0, 1 << 24));
  app.add_option("--step-tokens", step_tokens, "tokens per scheduler step (default 256)")->check(CLI::Range(1, 1 << 20));
  app.add_option("--chat-template", tmpl, "chatml | llama3 | plain (default: detected from the model)");
  app.add_flag("--no-prefix-caching", no_prefix_caching, "disable prefix caching");
  app.add_option("--log-level", log_level, "debug | info | warn | error");
  app.add_flag("--check", check, "validate the configuration (and load the model) and exit");
  app.add_flag("--print-keys", print_keys,
               "read the file (-c) and print every config key the loader looks up, one dotted name a line, and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (print_keys) {
    // Keys of tables absent from the file are not looked up: give a file with every table.
    http::key_census census;
    try {
      if (config_path.empty()) parse_worker_config("", "command line");
      else load_worker_config(config_path);
    } catch (const config_error& e) {
      std::fprintf(stderr, "laneway worker: configuration error: %s\n", e.what());
      return 2;
    }
    for (const auto& key : census.keys()) std::printf("%s\n", key.c_str());
    return 0;
  }

  worker_config c;
  try {
    if (!config_path.empty()) c = load_worker_config(config_path);
    if (!model.empty()) c.model_path = model;
    if (!name.empty()) c.model_name = name;
    if (!host.empty()) c.host = host;
    if (port >= 0) c.port = static_cast<uint16_t>(port);
    if (threads >= 0) c.threads = threads;
    if (io_threads > 0) c.io_threads = io_threads;
    if (!backend.empty()) c.backend = backend;
    if (!kv_memory.empty()) {
      std::string why;
      auto b = http::parse_byte_size(kv_memory, &why);
      if (!b) throw config_error("--kv-memory: " + why);
      if (*b < (1 << 16)) throw config_error("--kv-memory: must be at least 64KiB");
      c.kv_memory = *b;
      c.kv_blocks = 0;
    }
    if (kv_blocks > 0) c.kv_blocks = kv_blocks;
    if (!kv_type.empty()) c.kv_type = kv_type;
    if (block_size > 0) c.block_size = block_size;
    if (max_seqs > 0) c.max_seqs = max_seqs;
    if (max_model_len >= 0) c.max_model_len = max_model_len;
    if (step_tokens > 0) c.step_tokens = step_tokens;
    if (!tmpl.empty()) c.chat_template = tmpl;
    if (no_prefix_caching) c.prefix_caching = false;
    if (!log_level.empty()) c.log_level = log_level;
    validate(c, config_path.empty() ? "command line" : config_path);
  } catch (const config_error& e) {
    std::fprintf(stderr, "laneway worker: configuration error: %s\n", e.what());
    return 2;
  }
  if (check) {
    const std::string path = c.model_path.empty() ? default_model_path() : c.model_path;
    try {
      engine::gguf_file::open(path);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "laneway worker: cannot load the model: %s\n", e.what());
      return 1;
    }
    std::printf("configuration ok: model %s, listen %s:%u\n", path.c_str(), c.host.c_str(), c.port);
    return 0;
  }
  try {
    return run_worker(c);
  } catch (const boost::system::system_error& e) {
    std::fprintf(stderr, "laneway worker: cannot start: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "laneway worker: cannot start: %s\n", e.what());
    return 1;
  }
}

}  // namespace laneway::worker
