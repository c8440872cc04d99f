// The worker's HTTP API: the route table and the handlers. Generation requests go to the
// scheduler and stream back (generation.cpp); the rest answer from state the HTTP threads can
// read without waiting on the engine (/health, /metrics, /load, /v1/models, tokenizer routes), so
// they stay fast while the engine is saturated. KV events stream from kv_events_route.cpp.
//
//   POST /v1/chat/completions, /v1/completions   OpenAI (stream and not)
//   GET  /v1/models, /v1/models/{id}             the one served model
//   GET  /health                                 200 {"status":"ok"} (503 while draining)
//   GET  /metrics                                Prometheus (vllm:* names)
//   GET  /load                                   JSON for the gateway's router
//   GET  /v1/kv/events                           SSE: snapshot, then stored/removed batches
//   POST /tokenize, /detokenize                  vLLM-style
//   GET  /v1/tokenizer                           what a gateway needs to tokenize like this node
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "backends/engine/chat_template.hpp"
#include "backends/engine/model.hpp"
#include "backends/engine/scheduler.hpp"
#include "backends/engine/tokenizer.hpp"
#include "backends/worker/openai_request.hpp"
#include "backends/worker/worker_config.hpp"
#include "backends/worker/worker_metrics.hpp"
#include "gateway/http/server.hpp"

namespace laneway::worker {

// Everything the handlers read; owned by the worker process (worker.cpp).
struct worker_state {
  const worker_config& config;
  const engine::model& model;
  const engine::tokenizer& tok;
  const engine::chat_template& tmpl;
  engine::scheduler& sched;
  worker_metrics& metrics;
  std::string model_name;
  std::string model_fingerprint;  // 16 hex digits (model_fingerprint() in worker.cpp)
  std::string tokenizer_gguf;     // the vocab-only GGUF served by GET /v1/tokenizer
  int64_t started_unix = 0;
};

class worker_api {
 public:
  explicit worker_api(worker_state& state) : w_(state) {}
  boost::asio::awaitable<void> handle(http::exchange& ex);
  void on_rejection(const http::rejection& r);

 private:
  boost::asio::awaitable<void> models(http::exchange& ex, std::string_view id);
  boost::asio::awaitable<void> load(http::exchange& ex);
  boost::asio::awaitable<void> tokenize(http::exchange& ex);
  boost::asio::awaitable<void> detokenize(http::exchange& ex);
  boost::asio::awaitable<void> tokenizer_info(http::exchange& ex);

  worker_state& w_;
};

// POST /v1/chat/completions and /v1/completions (generation.cpp).
boost::asio::awaitable<void> serve_generation(http::exchange& ex, worker_state& w, api_kind kind);
// GET /v1/kv/events (kv_events_route.cpp).
boost::asio::awaitable<void> serve_kv_events(http::exchange& ex, worker_state& w);

}  // namespace laneway::worker
