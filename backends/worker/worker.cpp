// Worker process wiring (see worker.hpp).
#include "backends/worker/worker.hpp"

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "backends/engine/chat_template.hpp"
#include "backends/engine/kv_math.hpp"
#include "backends/engine/model.hpp"
#include "backends/engine/scheduler.hpp"
#include "backends/engine/tokenizer.hpp"
#include "backends/worker/openai_response.hpp"
#include "backends/worker/tokenizer_export.hpp"
#include "backends/worker/worker_api.hpp"
#include "backends/worker/worker_metrics.hpp"
#include "gateway/http/config_reader.hpp"
#include "gateway/http/drain.hpp"
#include "gateway/http/io_pool.hpp"
#include "gateway/http/log.hpp"
#include "gateway/http/server.hpp"

namespace laneway::worker {

namespace {

using json = nlohmann::json;

// The configured template, else the model's own; a model with no (known) template and no
// ChatML tokens in its vocabulary (e.g. the bundled TinyStories model) gets "plain".
engine::chat_template pick_template(const worker_config& c, const engine::model& m, const engine::tokenizer& tok) {
  if (!c.chat_template.empty()) return engine::chat_template::by_name(c.chat_template);
  auto t = engine::chat_template::for_model(m.file());
  if (!t.recognised() && tok.tokenize("<|im_start|>", false, true).size() != 1) return engine::chat_template::by_name("plain");
  return t;
}

engine::scheduler_config scheduler_config_for(const worker_config& c, const engine::tokenizer& tok) {
  engine::scheduler_config s;
  s.block_size = c.block_size;
  s.kv_blocks = c.kv_blocks;
  s.kv_memory_bytes = c.kv_memory;
  s.kv_type = c.kv_type == "f32" ? cpu::dtype::f32 : cpu::dtype::f16;
  s.max_seqs = c.max_seqs;
  s.max_model_len = c.max_model_len;
  s.step_tokens = c.step_tokens;
  s.max_waiting = c.max_waiting;
  s.prefix_caching = c.prefix_caching;
  s.threads = c.threads;
  s.hash_seed = tok.fingerprint();
  return s;
}

// The KV math of this configuration, logged once at start-up (the same figures `laneway kv` prints).
void log_kv_math(const engine::model& m, const engine::scheduler& s, const worker_config& c) {
  const engine::load_info l = s.load();
  engine::kv_plan_input in;
  in.ctx = s.max_model_len();
  in.seqs = c.max_seqs;
  in.block_size = c.block_size;
  in.kv_type = c.kv_type == "f32" ? cpu::dtype::f32 : cpu::dtype::f16;
  in.memory = engine::machine_memory_bytes();
  in.reserve = 4ull << 30;
  const engine::kv_plan p = engine::plan_kv(m, in);
  const uint64_t pool_bytes = static_cast<uint64_t>(l.kv_blocks_total) * p.bytes_per_block;
  http::log_event_always(http::log_level::info, "kv cache",
                         {{"kv_bytes_per_token", p.bytes_per_token},
                          {"kv_type", c.kv_type},
                          {"block_size", c.block_size},
                          {"kv_blocks", l.kv_blocks_total},
                          {"kv_pool_bytes", pool_bytes},
                          {"kv_pool", http::format_byte_size(pool_bytes)},
                          {"kv_tokens", l.kv_blocks_total * c.block_size},
                          {"max_model_len", s.max_model_len()},
                          {"full_length_sequences", p.blocks_per_seq > 0 ? l.kv_blocks_total / p.blocks_per_seq : 0},
                          {"weights_bytes", p.weight_bytes},
                          {"machine_memory_bytes", in.memory}});
}

}  // namespace

int run_worker(const worker_config& c) {
  http::log_level level = http::log_level::info;
  http::parse_log_level(c.log_level, level);
  http::set_log_level(level);

  const std::string path = c.model_path.empty() ? default_model_path() : c.model_path;
  const engine::model m = engine::model::open(path);
  const engine::tokenizer tok = engine::tokenizer::from_gguf(m.file());
  const engine::chat_template tmpl = pick_template(c, m, tok);
  std::string name = c.model_name.empty() ? std::filesystem::path(path).stem().string() : c.model_name;

  http::io_pool io(static_cast<std::size_t>(c.io_threads));  // before the scheduler: outlives its notifies
  engine::scheduler sched(m, scheduler_config_for(c, tok));
  worker_metrics metrics(name);
  worker_state state{c, m, tok, tmpl, sched, metrics, name, hex64(model_fingerprint(m.file())), make_tokenizer_gguf(m.file()),
                     std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count()};
  worker_api api(state);

  http::server_limits limits{c.max_connections, c.max_header_bytes, c.max_body_bytes, c.header_timeout, c.body_timeout, c.idle_timeout};
  http::server server(
      io, limits, [&api](http::exchange& ex) { return api.handle(ex); },
      [&api](const http::rejection& r) { api.on_rejection(r); });
  auto bound = server.listen(c.host, c.port);

  log_kv_math(m, sched, c);
  std::string address = bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string();
  http::log_event_always(http::log_level::info, "listening",
                         {{"address", address + ":" + std::to_string(bound.port())},
                          {"model", name},
                          {"model_path", path},
                          {"arch", std::string(engine::to_string(m.hparams().arch))},
                          {"weights", std::string(cpu::traits(m.main_type()).name)},
                          {"backend", std::string(sched.backend_name())},
                          {"threads", c.threads},
                          {"chat_template", std::string(tmpl.name())},
                          {"io_threads", io.size()},
                          {"max_seqs", c.max_seqs},
                          {"prefix_caching", c.prefix_caching}});

  http::serve_until_stopped(io, server, c.shutdown_grace, [&sched] { sched.stop(true); });
  return 0;
}

}  // namespace laneway::worker
