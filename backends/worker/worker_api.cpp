// The worker's route table and its non-generation handlers (see worker_api.hpp).
#include "backends/worker/worker_api.hpp"

#include <nlohmann/json.hpp>

#include "backends/worker/openai_response.hpp"
#include "backends/worker/tokenizer_export.hpp"
#include "gateway/http/log.hpp"
#include "gateway/http/responses.hpp"

namespace laneway::worker {

namespace {

using json = nlohmann::json;
namespace asio = boost::asio;

enum class route { chat, completions, models, model, health, metrics, load, kv_events, tokenize, detokenize, tokenizer, other };

struct route_match {
  route r = route::other;
  std::string_view method;
  std::string_view name = "other";
};

route_match classify(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  struct entry {
    std::string_view path;
    route r;
    std::string_view method;
    std::string_view name;
  };
  static constexpr entry table[] = {
      {"/v1/chat/completions", route::chat, "POST", "chat_completions"},
      {"/v1/completions", route::completions, "POST", "completions"},
      {"/v1/models", route::models, "GET", "models"},
      {"/health", route::health, "GET", "health"},
      {"/metrics", route::metrics, "GET", "metrics"},
      {"/load", route::load, "GET", "load"},
      {"/v1/kv/events", route::kv_events, "GET", "kv_events"},
      {"/tokenize", route::tokenize, "POST", "tokenize"},
      {"/detokenize", route::detokenize, "POST", "detokenize"},
      {"/v1/tokenizer", route::tokenizer, "GET", "tokenizer"},
  };
  for (const auto& e : table)
    if (path == e.path) return {e.r, e.method, e.name};
  if (path.starts_with("/v1/models/") && path.size() > 11) return {route::model, "GET", "models"};
  return {};
}

json model_object(const worker_state& w) {
  return {{"id", w.model_name},
          {"object", "model"},
          {"created", w.started_unix},
          {"owned_by", "laneway"},
          {"max_model_len", w.sched.max_model_len()},
          {"root", w.model_fingerprint}};
}

std::string list_body(const worker_state& w) {
  return dump_json({{"object", "list"}, {"data", json::array({model_object(w)})}});
}

std::string tokenize_body(const std::vector<int32_t>& tokens, int32_t max_model_len) {
  return dump_json({{"tokens", tokens}, {"count", tokens.size()}, {"max_model_len", max_model_len}});
}

}  // namespace

asio::awaitable<void> worker_api::handle(http::exchange& ex) {
  const route_match m = classify(ex.req.target());
  const std::string_view method = ex.req.method_string();
  if (m.r == route::other) {
    auto err = http::make_error(http::error_kind::not_found, "no route for " + std::string(method) + " " +
                                                                 std::string(ex.req.target().substr(0, 200)));
    co_await http::write_error(ex, err);
    w_.metrics.http_answer("other", err.status());
    co_return;
  }
  if (method != m.method) {
    auto err = http::make_error(http::error_kind::method_not_allowed,
                                std::string(m.name) + " accepts " + std::string(m.method) + " only");
    co_await http::write_error(ex, err);
    w_.metrics.http_answer(m.name, err.status());
    co_return;
  }
  unsigned status = 200;
  switch (m.r) {
    case route::chat: co_return co_await serve_generation(ex, w_, api_kind::chat);
    case route::completions: co_return co_await serve_generation(ex, w_, api_kind::completion);
    case route::kv_events: co_return co_await serve_kv_events(ex, w_);
    case route::models: co_await models(ex, {}); break;
    case route::model: {
      std::string_view path = ex.req.target().substr(0, ex.req.target().find('?'));
      co_await models(ex, path.substr(11));
      break;
    }
    case route::health:
      if (ex.draining()) {
        status = 503;
        co_await http::write_json(ex, 503, R"({"status":"draining"})");
      } else {
        co_await http::write_json(ex, 200, R"({"status":"ok"})");
      }
      break;
    case route::metrics:
      co_await http::write_body(ex, 200, w_.metrics.serialize(w_.sched), "text/plain; version=0.0.4");
      break;
    case route::load: co_await load(ex); break;
    case route::tokenize: co_await tokenize(ex); break;
    case route::detokenize: co_await detokenize(ex); break;
    case route::tokenizer: co_await tokenizer_info(ex); break;
    case route::other: break;
  }
  w_.metrics.http_answer(m.name, status);
}

void worker_api::on_rejection(const http::rejection& r) {
  w_.metrics.http_answer("other", r.err.status());
  http::log_event(http::log_level::info, "rejected",
                  {{"request_id", r.request_id}, {"status", r.err.status()}, {"error", r.err.code()}});
}

asio::awaitable<void> worker_api::models(http::exchange& ex, std::string_view id) {
  // (Bodies are built before co_await: GCC 12 mis-compiles braced JSON literals inside one.)
  if (id.empty()) {
    std::string body = list_body(w_);
    co_await http::write_json(ex, 200, std::move(body));
  } else if (id == w_.model_name) {
    std::string body = dump_json(model_object(w_));
    co_await http::write_json(ex, 200, std::move(body));
  } else {
    auto err = http::make_error(http::error_kind::model_not_found, "The model '" + std::string(id) + "' does not exist", "model");
    co_await http::write_error(ex, err);
  }
}

asio::awaitable<void> worker_api::load(http::exchange& ex) {
  const engine::load_info l = w_.sched.load();
  json j = {{"model", w_.model_name},
            {"model_fingerprint", w_.model_fingerprint},
            {"backend", std::string(w_.sched.backend_name())},
            {"backend_device", w_.sched.backend_device()},
            {"running", l.running},
            {"waiting", l.waiting},
            {"max_seqs", l.max_seqs},
            {"max_model_len", l.max_model_len},
            {"kv_blocks_total", l.kv_blocks_total},
            {"kv_blocks_free", l.kv_blocks_free},
            {"kv_blocks_cached", l.kv_blocks_cached},
            {"block_size", l.block_size},
            {"hash_seed", hex64(l.hash_seed)},
            {"kv_events_seq", w_.sched.kv_events().last_seq()},
            {"prefill_tokens_per_s", l.prefill_tokens_per_s},
            {"decode_tokens_per_s", l.decode_tokens_per_s},
            {"draining", ex.draining()}};
  std::string body = dump_json(j);
  co_await http::write_json(ex, 200, std::move(body));
}

asio::awaitable<void> worker_api::tokenize(http::exchange& ex) {
  auto req = parse_tokenize_request(ex.req.body());
  if (!req) {
    co_await http::write_error(ex, req.err());
    co_return;
  }
  std::string text = req->prompt ? *req->prompt : w_.tmpl.apply(req->messages, req->add_generation_prompt);
  auto tokens = w_.tok.tokenize(text, req->add_special_tokens, true);
  std::string body = tokenize_body(tokens, w_.sched.max_model_len());
  co_await http::write_json(ex, 200, std::move(body));
}

asio::awaitable<void> worker_api::detokenize(http::exchange& ex) {
  auto tokens = parse_detokenize_request(ex.req.body());
  if (!tokens) {
    co_await http::write_error(ex, tokens.err());
    co_return;
  }
  const auto n_vocab = static_cast<int32_t>(w_.tok.size());
  for (int32_t id : *tokens) {
    if (id >= n_vocab) {
      auto err = http::make_error(http::error_kind::bad_request,
                                  "token id " + std::to_string(id) + " is outside the vocabulary [0, " + std::to_string(n_vocab) + ")",
                                  "tokens");
      co_await http::write_error(ex, err);
      co_return;
    }
  }
  std::string body = dump_json(json{{"prompt", w_.tok.detokenize(*tokens)}});
  co_await http::write_json(ex, 200, std::move(body));
}

asio::awaitable<void> worker_api::tokenizer_info(http::exchange& ex) {
  const std::string_view target = ex.req.target();
  const bool as_json = target.find("format=json") != std::string_view::npos;
  const engine::load_info l = w_.sched.load();
  if (as_json) {
    const auto& v = w_.tok.vocabulary();
    json j = {{"model", w_.model_name},
              {"tokenizer_model", v.model_name},
              {"pre", v.pre_name},
              {"vocab_size", w_.tok.size()},
              {"fingerprint", hex64(w_.tok.fingerprint())},
              {"hash_seed", hex64(l.hash_seed)},
              {"block_size", l.block_size},
              {"chat_template", std::string(w_.tmpl.name())},
              {"gguf_bytes", w_.tokenizer_gguf.size()},
              {"format", "GET /v1/tokenizer returns a vocab-only GGUF (tokenizer.* keys of the model)"}};
    std::string body = dump_json(j);
    co_await http::write_json(ex, 200, std::move(body));
    co_return;
  }
  co_await http::write_body(ex, 200, w_.tokenizer_gguf, "application/octet-stream");
}

}  // namespace laneway::worker
