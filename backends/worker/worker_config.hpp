// The worker's configuration: a TOML file (conf/worker.toml documents every key) plus
// command-line flags that override it. Everything is validated at start-up; a bad value throws
// http::config_error naming the file (or flag) and the key. Unknown keys are errors.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "gateway/http/config_error.hpp"
#include "gateway/http/tls_config.hpp"

namespace laneway::worker {

using millis = std::chrono::milliseconds;
using http::config_error;

struct worker_config {
  // [server]
  std::string host = "127.0.0.1";
  uint16_t port = 8081;                  // 0 picks a free port (logged at start)
  int io_threads = 2;
  std::size_t max_connections = 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 16 * 1024 * 1024;
  millis header_timeout{10'000};
  millis body_timeout{30'000};
  millis idle_timeout{60'000};
  millis request_timeout{600'000};       // one generation, submit to last token
  millis shutdown_grace{30'000};
  // [tls]: a TLS listener next to the plain one (docs/tls.md), so the gateway's hop can be TLS
  http::tls_listener_config tls;
  // [model]
  std::string model_path;                // empty: the bundled default model
  std::string model_name;                // served as "model"; empty: the file name without .gguf
  std::string chat_template;             // chatml | llama3 | plain; empty: detected
  int max_model_len = 0;                 // 0: the model's context_length (capped by the pool)
  // [engine]
  int threads = 0;                       // forward-pass threads; 0: all cores
  std::string backend = "auto";          // auto | cpu | vulkan | metal (backend_registry.hpp)
  int block_size = 16;
  uint64_t kv_memory = 1ull << 30;       // KV pool bytes (used when kv_blocks == 0)
  int64_t kv_blocks = 0;
  std::string kv_type = "f16";           // f16 | f32
  int max_seqs = 16;
  int step_tokens = 256;
  int max_waiting = 256;
  bool prefix_caching = true;
  // [log]
  std::string log_level = "info";
  bool log_requests = true;              // one JSON line per request
};

worker_config parse_worker_config(const std::string& toml_text, const std::string& source);
worker_config load_worker_config(const std::string& path);
// Cross-field checks (after flags were applied); throws config_error.
void validate(const worker_config& c, const std::string& source);
// The model served when none is configured: backends/worker/models/stories260K.gguf of the
// source tree, or share/laneway/stories260K.gguf next to the installed binary.
std::string default_model_path();

}  // namespace laneway::worker
