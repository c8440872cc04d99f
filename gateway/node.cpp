// Runtime node state (see node.hpp). Health transitions are logged and counted here, once.
#include "gateway/node.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <prometheus/gauge.h>

#include "gateway/http/log.hpp"

namespace laneway::gateway {

namespace {

routing::health_thresholds thresholds(const health_config& h) {
  return {h.unhealthy_threshold, h.healthy_threshold, h.circuit_failures, h.circuit_cooldown};
}

}  // namespace

node_kind parse_node_kind(std::string_view kind) {
  if (kind == "laneway") return node_kind::laneway;
  if (kind == "llamacpp") return node_kind::llamacpp;
  if (kind == "vllm") return node_kind::vllm;
  if (kind == "ollama") return node_kind::ollama;
  return node_kind::openai;
}

node::node(const node_config& config, const gateway_config& all, http::io_pool& io, gateway_metrics& metrics,
           std::uint32_t routing_id)
    : config_(config),
      kind_(parse_node_kind(config.kind)),
      routing_id_(routing_id),
      health_path_(config.health_path.empty() ? all.health.path : config.health_path),
      metrics_(metrics),
      node_metrics_(metrics.for_node(config.name)),
      tls_(config.url.tls() ? std::make_unique<upstream_tls>(config, metrics) : nullptr),
      health_(thresholds(all.health)) {
  pool_settings settings{all.upstream.connect_timeout, all.upstream.pool_idle_timeout, all.upstream.max_connection_age,
                         all.upstream.max_idle_per_node};
  for (std::size_t i = 0; i < io.size(); ++i) {
    pools_.push_back(std::make_unique<upstream_pool>(io.context(i), config.url, settings, config.name, metrics,
                                                     node_metrics_, tls_.get()));
  }
  node_metrics_.healthy->Set(0);
}

bool node::same_endpoint(const node_config& other) const {
  return other.name == config_.name && other.url.text() == config_.url.text() && other.kind == config_.kind &&
         other.health_path == config_.health_path && other.models == config_.models && other.tls == config_.tls;
}

node_report node::report() const {
  std::lock_guard lock(mutex_);
  return report_;
}

void node::set_report(const node_report& report) {
  std::lock_guard lock(mutex_);
  report_ = report;
}

void node::set_health_listener(std::function<void(routing::health_change)> listener) {
  std::lock_guard lock(mutex_);
  health_listener_ = std::move(listener);
}

routing::circuit_state node::circuit() const {
  std::lock_guard lock(mutex_);
  return health_.circuit(routing::node_health::clock::now());
}

bool node::routable() const {
  std::lock_guard lock(mutex_);
  return health_.routable(routing::node_health::clock::now());
}

bool node::healthy() const {
  std::lock_guard lock(mutex_);
  return health_.healthy();
}

void node::on_probe(bool ok) {
  std::lock_guard lock(mutex_);
  publish_health_locked(health_.on_probe(ok, routing::node_health::clock::now()));
}

void node::on_traffic(bool failure) {
  std::lock_guard lock(mutex_);
  publish_health_locked(health_.on_traffic(failure, routing::node_health::clock::now()));
}

void node::publish_health_locked(routing::health_change change) {
  auto now = routing::node_health::clock::now();
  node_metrics_.healthy->Set(health_.routable(now) ? 1 : 0);
  if (change == routing::health_change::none) return;
  if (health_listener_) health_listener_(change);
  if (change == routing::health_change::ejected) metrics_.ejection(config_.name, "probe");
  if (change == routing::health_change::circuit_opened) metrics_.ejection(config_.name, "circuit");
  auto level = (change == routing::health_change::returned || change == routing::health_change::circuit_closed)
                   ? http::log_level::info
                   : http::log_level::warn;
  http::log_event(level, "node health", {{"node", config_.name}, {"change", routing::to_string(change)},
                                         {"circuit", routing::to_string(health_.circuit(now))}});
}

void node::add_in_flight(int delta) {
  int now = in_flight_.fetch_add(delta, std::memory_order_relaxed) + delta;
  node_metrics_.in_flight->Set(now);
}

void node::set_discovered_models(std::vector<model_entry> models) {
  std::lock_guard lock(mutex_);
  models_discovered_ = true;
  models_ = std::move(models);
}

bool node::serves(std::string_view model) const {
  if (!config_.models.empty())
    return std::find(config_.models.begin(), config_.models.end(), model) != config_.models.end();
  std::lock_guard lock(mutex_);
  if (!models_discovered_) return true;  // nothing known yet: a foreign server without /v1/models
  return std::any_of(models_.begin(), models_.end(), [&](const model_entry& m) { return m.id == model; });
}

bool node::models_known() const {
  if (!config_.models.empty()) return true;
  std::lock_guard lock(mutex_);
  return models_discovered_;
}

std::vector<model_entry> node::models() const {
  if (!config_.models.empty()) {
    std::vector<model_entry> out;
    for (const auto& id : config_.models) {
      out.push_back({id, nlohmann::json{{"id", id}, {"object", "model"}, {"created", 0}, {"owned_by", config_.name}}.dump()});
    }
    return out;
  }
  std::lock_guard lock(mutex_);
  return models_;
}

}  // namespace laneway::gateway
