// The gateway's request pipeline, phase by phase: classify the route → API key (401) → local
// answers (health, ready, models, metrics) or, for inference: parse what routing needs from the
// JSON body → lane → prompt block hashes → admission (lane queue, 429/503) → choose a node
// (routing policy over the prefix index and node loads) → forward (relay.hpp), trying another
// node only while nothing reached the client → one access log line and metrics.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config.hpp"
#include "gateway/http/server.hpp"
#include "gateway/metrics.hpp"
#include "gateway/node.hpp"
#include "gateway/request_body.hpp"
#include "gateway/runtime.hpp"

namespace laneway::gateway {

enum class route { chat_completions, completions, embeddings, models, model, health, ready, metrics, other };
std::string_view to_string(route r);

// Route of a path (query string ignored) and whether `method` is allowed on it.
struct route_match {
  route r = route::other;
  bool method_allowed = false;
  std::string_view allow;  // the Allow header for a 405
};
route_match classify(std::string_view method, std::string_view target);

// The API key of a request (Authorization: Bearer), when keys are configured: its grant, or a
// 401 invalid_api_key. Without keys: an anonymous grant (tenant "anonymous", no lane).
http::result<key_grant> authenticate(const http::exchange& ex, const key_table& keys);
// An access log line for a request refused before routing (401, 400, 429, 503).
void write_rejected_log(const http::exchange& ex, const http::error& err);

class proxy {
 public:
  proxy(runtime& state, gateway_metrics& metrics);

  boost::asio::awaitable<void> handle(http::exchange& ex);
  void on_rejection(const http::rejection& r);

  // The routable nodes' models, deduplicated by id (first node wins), and as the
  // {"object":"list","data":[...]} body of /v1/models.
  std::vector<model_entry> routable_models() const;
  std::string models_json() const;
  bool ready() const;

 private:
  boost::asio::awaitable<void> handle_inference(http::exchange& ex, route r);
  boost::asio::awaitable<void> handle_local(http::exchange& ex, route r);

  runtime& state_;
  gateway_metrics& metrics_;
};

}  // namespace laneway::gateway
