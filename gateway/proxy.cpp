// The request pipeline's entry: route classification, API keys, local answers (see proxy.hpp);
// the inference phases are in proxy_inference.cpp.
#include "gateway/proxy.hpp"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>

#include "gateway/http/headers.hpp"
#include "gateway/http/log.hpp"
#include "gateway/http/responses.hpp"
#include "gateway/relay.hpp"

namespace laneway::gateway {

namespace bhttp = boost::beast::http;
using json = nlohmann::json;

std::string_view to_string(route r) {
  switch (r) {
    case route::chat_completions: return "chat_completions";
    case route::completions: return "completions";
    case route::embeddings: return "embeddings";
    case route::models: return "models";
    case route::model: return "models";
    case route::health: return "health";
    case route::ready: return "ready";
    case route::metrics: return "metrics";
    case route::other: return "other";
  }
  return "other";
}

route_match classify(std::string_view method, std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  struct entry {
    std::string_view path;
    route r;
    std::string_view method;
  };
  static constexpr entry table[] = {
      {"/v1/chat/completions", route::chat_completions, "POST"},
      {"/v1/completions", route::completions, "POST"},
      {"/v1/embeddings", route::embeddings, "POST"},
      {"/v1/models", route::models, "GET"},
      {"/health", route::health, "GET"},
      {"/ready", route::ready, "GET"},
      {"/metrics", route::metrics, "GET"},
  };
  for (const auto& e : table) {
    if (path == e.path) return {e.r, method == e.method, e.method};
  }
  if (path.starts_with("/v1/models/") && path.size() > 11) return {route::model, method == "GET", "GET"};
  return {};
}

proxy::proxy(runtime& state, gateway_metrics& metrics) : state_(state), metrics_(metrics) {}

bool proxy::ready() const {
  auto s = state_.current();
  return std::any_of(s->nodes.begin(), s->nodes.end(), [](const auto& n) { return n->routable(); });
}

std::vector<model_entry> proxy::routable_models() const {
  std::vector<model_entry> out;
  std::set<std::string> seen;
  auto s = state_.current();
  for (const auto& n : s->nodes) {
    if (!n->routable()) continue;
    for (auto& m : n->models()) {
      if (seen.insert(m.id).second) out.push_back(std::move(m));
    }
  }
  return out;
}

std::string proxy::models_json() const {
  std::string out = R"({"object":"list","data":[)";
  bool first = true;
  for (const auto& m : routable_models()) {
    if (!first) out += ',';
    out += m.object_json;
    first = false;
  }
  return out + "]}";
}

void proxy::on_rejection(const http::rejection& r) {
  metrics_.rejected(r.err.code());
  metrics_.request_done("other", r.err.status(), 0);
  http::log_json(http::log_level::info, {{"msg", "request"}, {"hop", "gateway"}, {"request_id", r.request_id},
                                          {"method", r.method}, {"path", r.target}, {"status", r.err.status()},
                                          {"error", r.err.code()}});
}

boost::asio::awaitable<void> proxy::handle(http::exchange& ex) {
  auto match = classify(ex.req.method_string(), ex.req.target());
  if (match.r == route::other) {
    auto err = http::make_error(http::error_kind::not_found, "no route for " + std::string(ex.req.target()));
    co_await http::write_error(ex, err);
    metrics_.request_done("other", err.status(), 0);
    co_return;
  }
  if (!match.method_allowed) {
    auto err = http::make_error(http::error_kind::method_not_allowed,
                                std::string(ex.req.method_string()) + " is not allowed on this path; use " +
                                    std::string(match.allow));
    co_await http::write_error(ex, err);
    metrics_.request_done(to_string(match.r), err.status(), 0);
    co_return;
  }
  if (match.r == route::models || match.r == route::model || match.r == route::chat_completions ||
      match.r == route::completions || match.r == route::embeddings) {
    auto s = state_.current();
    auto key = authenticate(ex, s->keys);
    if (!key) {
      co_await http::write_error(ex, key.err());
      metrics_.request_done(to_string(match.r), key.err().status(), 0);
      write_rejected_log(ex, key.err());
      co_return;
    }
  }
  switch (match.r) {
    case route::chat_completions:
    case route::completions:
    case route::embeddings: co_await handle_inference(ex, match.r); break;
    default: co_await handle_local(ex, match.r); break;
  }
}

boost::asio::awaitable<void> proxy::handle_local(http::exchange& ex, route r) {
  unsigned status = 200;
  switch (r) {
    case route::health: co_await http::write_json(ex, 200, R"({"status":"ok"})"); break;
    case route::ready: {
      status = ready() ? 200 : 503;
      co_await http::write_json(ex, status, status == 200 ? R"({"status":"ready"})" : R"({"status":"no healthy node"})");
      break;
    }
    case route::metrics: co_await http::write_body(ex, 200, metrics_.serialize(), "text/plain; version=0.0.4"); break;
    case route::models: co_await http::write_json(ex, 200, models_json()); break;
    case route::model: {
      std::string id(ex.req.target().substr(11));
      id = id.substr(0, id.find('?'));
      for (const auto& m : routable_models()) {
        if (m.id == id) {
          co_await http::write_json(ex, 200, m.object_json);
          metrics_.request_done(to_string(r), 200, 0);
          co_return;
        }
      }
      auto err = http::make_error(http::error_kind::model_not_found, "model '" + id + "' is not served by any healthy node", "model");
      status = err.status();
      co_await http::write_error(ex, err);
      break;
    }
    default: break;
  }
  metrics_.request_done(to_string(r), status, 0);
}

}  // namespace laneway::gateway
