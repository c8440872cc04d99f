// TOML -> worker_config (see worker_config.hpp), read with http::table_reader.
#include "backends/worker/worker_config.hpp"

#include <filesystem>
#include <unistd.h>
#if defined(__APPLE__)
#include <mach-o/dyld.h>
#endif

#include "gateway/http/config_reader.hpp"
#include "gateway/http/log.hpp"

namespace laneway::worker {

namespace {

using http::table_reader;
constexpr millis ms(long long v) { return millis(v); }

void read_server(table_reader r, worker_config& c) {
  std::string listen;
  r.string("host", c.host);
  r.integer("port", 0, 65535, c.port);
  r.integer("io_threads", 1, 256, c.io_threads);
  r.integer("max_connections", 1, 1'000'000, c.max_connections);
  r.integer("max_header_bytes", 1024, 1024 * 1024, c.max_header_bytes);
  r.integer("max_body_bytes", 1024, 1024LL * 1024 * 1024, c.max_body_bytes);
  r.duration("header_timeout", ms(10), ms(3'600'000), c.header_timeout);
  r.duration("body_timeout", ms(10), ms(3'600'000), c.body_timeout);
  r.duration("idle_timeout", ms(10), ms(86'400'000), c.idle_timeout);
  r.duration("request_timeout", ms(10), ms(86'400'000), c.request_timeout);
  r.duration("shutdown_grace", ms(0), ms(3'600'000), c.shutdown_grace);
  r.finish();
}

void read_model(table_reader r, worker_config& c) {
  r.string("path", c.model_path);
  r.string("name", c.model_name);
  r.string("chat_template", c.chat_template);
  r.integer("max_model_len", 0, 1 << 24, c.max_model_len);
  r.finish();
}

void read_engine(table_reader r, worker_config& c) {
  r.integer("threads", 0, 1024, c.threads);
  r.string("backend", c.backend);
  r.integer("block_size", 1, 1024, c.block_size);
  r.byte_size("kv_memory", 1 << 16, 1ull << 44, c.kv_memory);
  r.integer("kv_blocks", 0, 1LL << 32, c.kv_blocks);
  r.string("kv_type", c.kv_type);
  r.integer("max_seqs", 1, 4096, c.max_seqs);
  r.integer("step_tokens", 1, 1 << 20, c.step_tokens);
  r.integer("max_waiting", 0, 1 << 20, c.max_waiting);
  r.boolean("prefix_caching", c.prefix_caching);
  r.finish();
}

void read_log(table_reader r, worker_config& c) {
  r.string("level", c.log_level);
  r.boolean("requests", c.log_requests);
  r.finish();
}

std::filesystem::path executable_dir() {
#if defined(__APPLE__)
  char buf[4096];
  uint32_t size = sizeof buf;
  if (_NSGetExecutablePath(buf, &size) == 0) return std::filesystem::path(buf).parent_path();
#else
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) return p.parent_path();
#endif
  return {};
}

}  // namespace

worker_config parse_worker_config(const std::string& toml_text, const std::string& source) {
  toml::table root = http::parse_toml(toml_text, source);
  worker_config c;
  table_reader top(root, "", source);
  if (const auto* t = top.table("server")) read_server(table_reader(*t, "server.", source), c);
  if (const auto* t = top.table("tls")) http::read_tls_table(table_reader(*t, "tls.", source), c.tls);
  if (const auto* t = top.table("model")) read_model(table_reader(*t, "model.", source), c);
  if (const auto* t = top.table("engine")) read_engine(table_reader(*t, "engine.", source), c);
  if (const auto* t = top.table("log")) read_log(table_reader(*t, "log.", source), c);
  top.finish();
  validate(c, source);
  return c;
}

worker_config load_worker_config(const std::string& path) {
  worker_config c = parse_worker_config(http::read_config_file(path), path);
  http::resolve_tls_paths(c.tls, std::filesystem::path(path).parent_path());
  return c;
}

void validate(const worker_config& c, const std::string& source) {
  auto fail = [&](const std::string& key, const std::string& why) { throw config_error(source + ": " + key + ": " + why); };
  if (c.kv_type != "f16" && c.kv_type != "f32") fail("engine.kv_type", "must be \"f16\" or \"f32\" (got \"" + c.kv_type + "\")");
  if (c.backend != "auto" && c.backend != "cpu" && c.backend != "vulkan" && c.backend != "metal")
    fail("engine.backend", "must be one of auto, cpu, vulkan, metal (got \"" + c.backend + "\")");
  if (!c.chat_template.empty() && c.chat_template != "chatml" && c.chat_template != "llama3" && c.chat_template != "plain")
    fail("model.chat_template", "must be one of chatml, llama3, plain (got \"" + c.chat_template + "\")");
  http::log_level level;
  if (!http::parse_log_level(c.log_level, level))
    fail("log.level", "must be one of debug, info, warn, error (got \"" + c.log_level + "\")");
  if (c.host.empty()) fail("server.host", "must not be empty");
  if (c.step_tokens < c.max_seqs)
    fail("engine.step_tokens", "must be at least engine.max_seqs (" + std::to_string(c.max_seqs) +
                                   "): every running sequence decodes one token per step");
}

std::string default_model_path() {
  namespace fs = std::filesystem;
  const fs::path candidates[] = {
      fs::path(LANEWAY_SOURCE_MODEL_DIR) / "stories260K.gguf",
      executable_dir() / ".." / "share" / "laneway" / "stories260K.gguf",
  };
  for (const auto& p : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p.lexically_normal().string();
  }
  return candidates[0].string();
}

}  // namespace laneway::worker
