// A node as the gateway runs it: its config, one upstream pool per I/O thread, its health (probe
// and circuit state machine from routing/), the requests in flight, and the models it serves.
// Health and models are shared by all threads (a mutex, held briefly); pools are per thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config.hpp"
#include "gateway/http/io_pool.hpp"
#include "gateway/metrics.hpp"
#include "gateway/node_report.hpp"
#include "gateway/upstream_pool.hpp"
#include "gateway/upstream_tls.hpp"
#include "routing/health.hpp"

namespace laneway::gateway {

// One model a node serves: its id and its /v1/models object, kept as JSON text.
struct model_entry {
  std::string id;
  std::string object_json;
};

enum class node_kind { openai, laneway, llamacpp, vllm, ollama };
node_kind parse_node_kind(std::string_view kind);  // config values are validated: openai otherwise

class node {
 public:
  node(const node_config& config, const gateway_config& all, http::io_pool& io, gateway_metrics& metrics,
       std::uint32_t routing_id);

  node_kind kind() const { return kind_; }
  std::uint32_t routing_id() const { return routing_id_; }
  // Same name, URL, kind and health path: a reload keeps this node (its pools, health, index).
  bool same_endpoint(const node_config& other) const;

  // The node's last load report (node_report.hpp); known() is false until the first one.
  node_report report() const;
  void set_report(const node_report& report);

  // Called (under the node's lock: only post from it) on every health transition.
  void set_health_listener(std::function<void(routing::health_change)> listener);
  routing::circuit_state circuit() const;

  const std::string& name() const { return config_.name; }
  const node_config& config() const { return config_; }
  const std::string& health_path() const { return health_path_; }
  const node_metrics& metrics() const { return node_metrics_; }
  // How connections to a https node make their TLS handshake; null for http.
  const upstream_tls* tls() const { return tls_.get(); }

  // The pool of the calling I/O thread.
  upstream_pool& pool() { return *pools_[http::io_pool::thread_index()]; }
  upstream_pool& pool(std::size_t thread) { return *pools_[thread]; }

  bool routable() const;
  bool healthy() const;
  void on_probe(bool ok);
  void on_traffic(bool failure);

  int in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  void add_in_flight(int delta);

  // Models: the configured list, else the ids discovered from /v1/models.
  void set_discovered_models(std::vector<model_entry> models);
  bool serves(std::string_view model) const;
  bool models_known() const;
  // For /v1/models: discovered objects verbatim, configured ids synthesised.
  std::vector<model_entry> models() const;

 private:
  void publish_health_locked(routing::health_change change);

  node_config config_;
  node_kind kind_;
  std::uint32_t routing_id_;
  std::string health_path_;
  gateway_metrics& metrics_;
  node_metrics node_metrics_;
  std::unique_ptr<upstream_tls> tls_;  // before the pools, which point at it
  std::vector<std::unique_ptr<upstream_pool>> pools_;
  std::atomic<int> in_flight_{0};

  mutable std::mutex mutex_;
  routing::node_health health_;
  bool models_discovered_ = false;
  std::vector<model_entry> models_;
  node_report report_;
  std::function<void(routing::health_change)> health_listener_;
};

}  // namespace laneway::gateway
