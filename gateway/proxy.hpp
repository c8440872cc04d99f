// The gateway's request pipeline, phase by phase: classify the route → local answers (health,
// ready, models, metrics) or → parse what routing needs from the JSON body → choose a node →
// forward (relay.hpp), trying another node only while nothing reached the client → one access
// log line and metrics. Lanes, keys and KV-aware routing slot in between these phases later.
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
#include "routing/policy.hpp"

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

// What the proxy reads from an inference request body; everything else passes through untouched.
struct inference_fields {
  std::string model;
  bool stream = false;
};
// Type-checks the fields routing needs; errors name the field.
http::result<inference_fields> read_inference_fields(std::string_view body);

class proxy {
 public:
  proxy(const gateway_config& config, gateway_metrics& metrics, std::vector<std::unique_ptr<node>>& nodes,
        routing::policy& policy);

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

  const gateway_config& config_;
  gateway_metrics& metrics_;
  std::vector<std::unique_ptr<node>>& nodes_;
  routing::policy& policy_;
};

}  // namespace laneway::gateway
