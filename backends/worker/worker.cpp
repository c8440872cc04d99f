// Worker process wiring (see worker.hpp).
#include "backends/worker/worker.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
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
#include "gateway/http/tls_context.hpp"
#include "gateway/http/tls_listener.hpp"

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
  s.backend = engine::choose_backend(c.backend);
  // The one line that says a GPU was asked for (or looked for) and the CPU serves instead.
  if (!s.backend.note.empty()) http::log_event_always(http::log_level::warn, "backend", {{"message", s.backend.note}});
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

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& e) {
  std::string address = e.address().is_v6() ? "[" + e.address().to_string() + "]" : e.address().to_string();
  return address + ":" + std::to_string(e.port());
}

// SIGHUP: the [tls] files are read again; new handshakes use them, open connections keep theirs.
// Without [tls] there is nothing to re-read, but the signal is still caught: its default action
// would kill a worker that a `systemctl reload` or a fleet-wide `kill -HUP` meant to refresh.
boost::asio::awaitable<void> reload_on_sighup(boost::asio::signal_set& signals, http::tls_listener* listener,
                                              const http::tls_listener_config& tls) {
  for (;;) {
    auto [ec, sig] = co_await signals.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) co_return;
    if (listener) {
      http::reload_certificate(*listener, tls, "worker", "SIGHUP");
    } else {
      http::log_event_always(http::log_level::info, "reload",
                             {{"signal", "SIGHUP"},
                              {"detail", "no [tls] files to re-read; other worker settings apply at restart"}});
    }
  }
}

}  // namespace

int run_worker(const worker_config& c) {
  http::log_level level = http::log_level::info;
  http::parse_log_level(c.log_level, level);
  http::set_log_level(level);

  // [tls] files first (config_error naming the key), before the model takes its time to load.
  auto tls_context = c.tls.enabled ? http::make_server_tls_context(c.tls, "worker config") : nullptr;
  const std::string path = c.model_path.empty() ? default_model_path() : c.model_path;
  const engine::model m = engine::model::open(path);
  const engine::tokenizer tok = engine::tokenizer::from_gguf(m.file());
  const engine::chat_template tmpl = pick_template(c, m, tok);
  std::string name = c.model_name.empty() ? std::filesystem::path(path).stem().string() : c.model_name;

  http::io_pool io(static_cast<std::size_t>(c.io_threads));  // before the scheduler: outlives its notifies
  engine::scheduler sched(m, scheduler_config_for(c, tok));
  worker_metrics metrics(name);
  metrics.set_backend(sched.backend_name(), sched.backend_device());
  worker_state state{c, m, tok, tmpl, sched, metrics, name, hex64(model_fingerprint(m.file())), make_tokenizer_gguf(m.file()),
                     std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count()};
  worker_api api(state);

  http::server_limits limits{c.max_connections, c.max_header_bytes, c.max_body_bytes, c.header_timeout, c.body_timeout, c.idle_timeout};
  http::server server(
      io, limits, [&api](http::exchange& ex) { return api.handle(ex); },
      [&api](const http::rejection& r) { api.on_rejection(r); });
  auto bound = server.listen(c.host, c.port);
  std::unique_ptr<http::tls_listener> tls;
  std::optional<boost::asio::ip::tcp::endpoint> tls_bound;
  boost::asio::signal_set hup(io.context(0), SIGHUP);
  if (c.tls.enabled) {
    tls = std::make_unique<http::tls_listener>(tls_context);
    http::log_certificate("worker", c.tls.cert_file, tls->current_certificate());
    tls_bound = server.listen(c.tls.listen.host, c.tls.listen.port, tls->front());
  }
  boost::asio::co_spawn(io.context(0), reload_on_sighup(hup, tls.get(), c.tls), boost::asio::detached);

  log_kv_math(m, sched, c);
  http::log_event_always(http::log_level::info, "listening",
                         {{"address", endpoint_text(bound)},
                          {"tls_address", tls_bound ? json(endpoint_text(*tls_bound)) : json(nullptr)},
                          {"model", name},
                          {"model_path", path},
                          {"arch", std::string(engine::to_string(m.hparams().arch))},
                          {"weights", std::string(cpu::traits(m.main_type()).name)},
                          {"backend", std::string(sched.backend_name())},
                          {"device", sched.backend_device()},
                          {"threads", c.threads},
                          {"chat_template", std::string(tmpl.name())},
                          {"io_threads", io.size()},
                          {"max_seqs", c.max_seqs},
                          {"prefix_caching", c.prefix_caching}});

  http::serve_until_stopped(io, server, c.shutdown_grace, [&] {
    boost::asio::post(io.context(0), [&hup] {
      boost::system::error_code ignored;
      hup.cancel(ignored);
    });
    sched.stop(true);
  });
  return 0;
}

}  // namespace laneway::worker
