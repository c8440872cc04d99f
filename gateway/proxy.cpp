// The request pipeline (see proxy.hpp).
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

namespace {

// Reads only the top-level "model" and "stream" of a request body with a SAX pass: no JSON tree
// is built for the (possibly large) prompt; the body itself is forwarded untouched.
class inference_sax : public nlohmann::json_sax<json> {
 public:
  enum class field { none, model, stream };
  bool is_object = false;
  bool seen_model = false, model_ok = false, stream_ok = true;
  std::string model;
  bool stream = false;

  bool null() override { return value(kind::null); }
  bool boolean(bool v) override {
    if (depth_ == 1 && pending_ == field::stream) stream = v;
    return value(kind::boolean);
  }
  bool number_integer(number_integer_t) override { return value(kind::other); }
  bool number_unsigned(number_unsigned_t) override { return value(kind::other); }
  bool number_float(number_float_t, const string_t&) override { return value(kind::other); }
  bool string(string_t& v) override {
    if (depth_ == 1 && pending_ == field::model) model = std::move(v);
    return value(kind::string);
  }
  bool binary(binary_t&) override { return value(kind::other); }
  bool start_object(std::size_t) override {
    if (depth_ == 0) is_object = true;
    value(kind::other);
    ++depth_;
    return true;
  }
  bool end_object() override { --depth_; return true; }
  bool start_array(std::size_t) override {
    value(kind::other);
    ++depth_;
    return true;
  }
  bool end_array() override { --depth_; return true; }
  bool key(string_t& k) override {
    if (depth_ == 1) pending_ = k == "model" ? field::model : k == "stream" ? field::stream : field::none;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  enum class kind { null, boolean, string, other };
  bool value(kind k) {
    if (depth_ != 1) return true;
    if (pending_ == field::model) {
      seen_model = true;
      model_ok = k == kind::string;
    } else if (pending_ == field::stream) {
      stream_ok = k == kind::boolean || k == kind::null;
    }
    pending_ = field::none;
    return true;
  }
  int depth_ = 0;
  field pending_ = field::none;
};

}  // namespace

http::result<inference_fields> read_inference_fields(std::string_view body) {
  inference_sax sax;
  bool parsed = json::sax_parse(body.begin(), body.end(), &sax);
  if (!parsed) return http::make_error(http::error_kind::bad_request, "the request body is not valid JSON");
  if (!sax.is_object) return http::make_error(http::error_kind::bad_request, "the request body must be a JSON object");
  if (!sax.seen_model) return http::make_error(http::error_kind::bad_request, "'model' is required", "model");
  if (!sax.model_ok || sax.model.empty())
    return http::make_error(http::error_kind::bad_request, "'model' must be a non-empty string", "model");
  if (!sax.stream_ok) return http::make_error(http::error_kind::bad_request, "'stream' must be a boolean", "stream");
  return inference_fields{std::move(sax.model), sax.stream};
}

proxy::proxy(const gateway_config& config, gateway_metrics& metrics, std::vector<std::unique_ptr<node>>& nodes,
             routing::policy& policy)
    : config_(config), metrics_(metrics), nodes_(nodes), policy_(policy) {}

bool proxy::ready() const {
  return std::any_of(nodes_.begin(), nodes_.end(), [](const auto& n) { return n->routable(); });
}

std::vector<model_entry> proxy::routable_models() const {
  std::vector<model_entry> out;
  std::set<std::string> seen;
  for (const auto& n : nodes_) {
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

namespace {

struct access_log {
  std::string node;
  std::string model;
  unsigned status = 0;
  bool stream = false;
  int attempts = 0;
  attempt_stats stats;
  std::string error;
};

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

// Nodes that may take a request for `model` now: serving it, routable, not tried yet.
// `any_serves` tells a model nobody serves (404) from one whose nodes are all down (503).
std::vector<routing::candidate> routable_candidates(const std::vector<std::unique_ptr<node>>& nodes,
                                                    const std::string& model, const std::vector<node*>& tried,
                                                    bool& any_serves) {
  std::vector<routing::candidate> candidates;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    auto& n = *nodes[i];
    if (!n.serves(model)) continue;
    any_serves = true;
    if (!n.routable() || std::find(tried.begin(), tried.end(), &n) != tried.end()) continue;
    candidates.push_back({i, n.name(), n.in_flight()});
  }
  return candidates;
}

// One JSON line per proxied request (docs/logging.md), built only when it is written.
void write_access_log(const http::exchange& ex, const std::string& target, const access_log& entry) {
  if (!http::log_enabled(http::log_level::info)) return;
  http::line_builder(http::log_level::info)
      .str("msg", "request")
      .str("hop", "gateway")
      .str("request_id", ex.request_id)
      .str("lane", "default")
      .str("method", ex.req.method_string())
      .str("path", target)
      .str_or_null("node", entry.node)
      .str("model", entry.model)
      .num("status", std::uint64_t{entry.status})
      .num("bytes_in", std::uint64_t{ex.bytes_in})
      .num("bytes_out", std::uint64_t{entry.stats.bytes_out})
      .num("queue_wait_ms", std::uint64_t{0})
      .num("upstream_connect_ms", entry.stats.connect_ms)
      .num_or_null("ttfb_ms", entry.stats.ttfb_ms, entry.stats.ttfb_ms >= 0)
      .num("total_ms", ms_since(ex.started))
      .boolean("stream", entry.stream)
      .num("chunks", std::uint64_t{entry.stats.chunks})
      .boolean("reused", entry.stats.reused)
      .num("attempts", std::uint64_t(entry.attempts))
      .str_or_null("error", entry.error)
      .write();
}

}  // namespace

boost::asio::awaitable<void> proxy::handle_inference(http::exchange& ex, route r) {
  access_log entry;
  std::optional<http::error> failure;

  auto fields = read_inference_fields(ex.req.body());
  if (!fields) failure = fields.err();
  else {
    entry.model = fields->model;
    entry.stream = fields->stream;
  }

  // The request as the nodes get it: built once, Host and target set per attempt.
  upstream_request up{ex.req.method(), ex.req.target(), 11};
  http::copy_end_to_end_fields(ex.req.base(), up.base());
  up.set("X-Request-Id", ex.request_id);
  up.keep_alive(true);
  up.body() = std::move(ex.req.body());
  up.prepare_payload();
  const std::string target(ex.req.target());

  std::vector<node*> tried;
  const int max_attempts = 1 + config_.upstream.retries;
  for (bool keep_routing = !failure; keep_routing;) {
    bool any_serves = false;
    auto candidates = routable_candidates(nodes_, entry.model, tried, any_serves);
    if (candidates.empty()) {
      if (tried.empty()) {
        failure = any_serves ? http::make_error(http::error_kind::no_healthy_node, "no healthy node serves model '" + entry.model + "'")
                             : http::make_error(http::error_kind::model_not_found, "model '" + entry.model + "' is not served by any node", "model");
      }
      break;  // after failed attempts, `failure` holds the last attempt's error
    }
    auto pick = policy_.pick(candidates, {entry.model});
    node& chosen = *nodes_[candidates[*pick.index].node_index];  // index is set: no candidate is filtered out yet
    tried.push_back(&chosen);
    ++entry.attempts;
    entry.node = chosen.name();
    up.target(chosen.config().url.prefix + target);

    attempt_context ctx{config_.upstream, metrics_, entry.attempts < max_attempts && candidates.size() > 1};
    entry.stats = {};
    chosen.add_in_flight(1);
    auto result = co_await forward_once(ex, chosen, up, ctx, entry.stats);
    chosen.add_in_flight(-1);

    if (result.end == attempt_end::relayed) {
      failure.reset();
      entry.status = entry.stats.status;
      if (result.client_gone) {
        metrics_.client_disconnect();
        entry.error = "client_disconnect";
      } else if (result.err) {
        entry.error = result.err->code();
      }
      break;
    }
    failure = result.err;
    keep_routing = result.end == attempt_end::retry;
    if (keep_routing) metrics_.retry(result.err ? result.err->code() : "unknown");
  }

  if (failure) {
    entry.status = failure->status();
    entry.error = failure->code();
    co_await http::write_error(ex, *failure);
  }
  metrics_.request_done(to_string(r), entry.status, ms_since(ex.started) / 1000.0);

  write_access_log(ex, target, entry);
}

}  // namespace laneway::gateway
