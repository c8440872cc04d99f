// Snapshots, node agents and SIGHUP reload (see runtime.hpp).
#include "gateway/runtime.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <nlohmann/json.hpp>

#include "gateway/health_checker.hpp"
#include "gateway/http/log.hpp"
#include "gateway/kv_events_client.hpp"
#include "gateway/load_poller.hpp"

namespace laneway::gateway {

namespace asio = boost::asio;

struct runtime::agents {
  std::shared_ptr<node> target;
  std::unique_ptr<health_checker> health;
  std::unique_ptr<load_poller> load;
  std::unique_ptr<kv_events_client> kv;
  void stop() {
    health->stop();
    load->stop();
    kv->stop();
  }
};

// Every load_interval: the admission gate's total capacity from the routable nodes' sequence
// slots (only when lanes are configured; 0 = unlimited when any routable node does not say).
struct runtime::refresher {
  explicit refresher(asio::io_context& ioc) : timer(ioc) {}
  asio::steady_timer timer;
  std::atomic<bool> stopped{false};
};

runtime::runtime(const gateway_config& config, std::function<gateway_config()> load, http::io_pool& io,
                 gateway_metrics& metrics)
    : load_(std::move(load)), io_(io), metrics_(metrics), router_(config.routing) {
  current_ = build(config, 1);
}

runtime::~runtime() = default;

std::shared_ptr<const snapshot> runtime::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

std::shared_ptr<const snapshot> runtime::build(const gateway_config& config, std::uint64_t generation) {
  auto s = std::make_shared<snapshot>(snapshot{std::make_shared<const gateway_config>(config), {},
                                                key_table(config.keys), lane_table(config.lanes), nullptr, generation});
  s->gate = std::make_shared<admission_gate>(s->lanes.admission_lanes(), 0);
  const auto* old = current_.get();
  for (const auto& nc : config.nodes) {
    std::shared_ptr<node> kept;
    if (old) {
      for (const auto& n : old->nodes)
        if (n->same_endpoint(nc)) kept = n;
    }
    s->nodes.push_back(kept ? kept : std::make_shared<node>(nc, config, io_, metrics_, router_.id_of(nc.name)));
  }
  return s;
}

void runtime::start_agents(const std::shared_ptr<node>& n, const gateway_config& config) {
  auto a = std::make_unique<agents>();
  a->target = n;
  auto& ioc = io_.context(next_thread_++ % io_.size());
  a->health = std::make_unique<health_checker>(*n, config.health, ioc);
  a->load = std::make_unique<load_poller>(*n, config.routing.load_interval, config.health.timeout * 2, ioc, router_,
                                          tokenizers_, metrics_);
  a->kv = std::make_unique<kv_events_client>(*n, config, ioc, router_, metrics_);
  kv_events_client* kv = a->kv.get();
  n->set_health_listener([kv](routing::health_change change) {
    if (change == routing::health_change::ejected) kv->node_ejected();
  });
  a->health->start();
  a->load->start();
  a->kv->start();
  agents_.push_back(std::move(a));
}

void runtime::retire(const std::shared_ptr<node>& n) {
  for (auto it = agents_.begin(); it != agents_.end(); ++it) {
    if ((*it)->target != n) continue;
    n->set_health_listener({});
    (*it)->stop();
    retired_.push_back(std::move(*it));
    agents_.erase(it);
    break;
  }
  router_.drop(n->routing_id());
  metrics_.index_blocks(n->name(), 0);
  for (std::size_t t = 0; t < io_.size(); ++t) {
    asio::post(io_.context(t), [n, t] { n->pool(t).close_all("node_removed"); });
  }
}

void runtime::start() {
  std::lock_guard agents_lock(agents_mutex_);
  auto s = current();
  for (const auto& n : s->nodes) start_agents(n, *s->config);
  refresher_ = std::make_unique<refresher>(io_.context(0));
  asio::co_spawn(
      io_.context(0),
      [this]() -> asio::awaitable<void> {
        while (!refresher_->stopped) {
          refresh_capacity();
          refresher_->timer.expires_after(current()->config->routing.load_interval);
          co_await refresher_->timer.async_wait(asio::as_tuple(asio::use_awaitable));
        }
      },
      asio::detached);
}

void runtime::refresh_capacity() {
  auto s = current();
  if (s->config->lanes.empty()) return;  // one implicit lane: no gateway-level cap
  std::size_t total = 0;
  bool all_known = true;
  for (const auto& n : s->nodes) {
    if (!n->routable()) continue;
    auto r = n->report();
    if (r.max_seqs > 0) total += static_cast<std::size_t>(r.max_seqs);
    else all_known = false;
  }
  s->gate->set_capacity(all_known ? total : 0);
  metrics_.admission_capacity(all_known ? total : 0);
}

void runtime::stop() {
  if (refresher_) {
    refresher_->stopped = true;
    asio::post(io_.context(0), [this] { refresher_->timer.cancel(); });
  }
  std::lock_guard agents_lock(agents_mutex_);
  for (auto& a : agents_) a->stop();
  auto s = current();
  for (std::size_t t = 0; t < io_.size(); ++t) {
    asio::post(io_.context(t), [s, t] {
      for (auto& n : s->nodes) n->pool(t).close_all("shutdown");
    });
  }
}

bool runtime::reload() {
  gateway_config config;
  try {
    config = load_();
  } catch (const std::exception& e) {
    metrics_.config_reload("rejected");
    http::log_event(http::log_level::error, "config reload rejected; the running config is kept", {{"error", e.what()}});
    return false;
  }
  auto old = current();
  std::lock_guard agents_lock(agents_mutex_);
  if (config.server.listen.host != old->config->server.listen.host ||
      config.server.listen.port != old->config->server.listen.port ||
      config.server.io_threads != old->config->server.io_threads) {
    http::log_event(http::log_level::warn, "config reload: server.listen and server.io_threads take effect at restart");
  }
  http::log_level level = http::log_level::info;
  if (http::parse_log_level(config.log.level, level)) http::set_log_level(level);
  router_.configure(config.routing);
  auto fresh = build(config, old->generation + 1);
  {
    std::lock_guard lock(mutex_);
    current_ = fresh;
  }
  std::vector<std::string> added, removed;
  for (const auto& n : fresh->nodes) {
    bool existed = std::any_of(old->nodes.begin(), old->nodes.end(), [&](const auto& o) { return o == n; });
    if (!existed) {
      start_agents(n, config);
      added.push_back(n->name());
    }
  }
  for (const auto& o : old->nodes) {
    bool kept = std::any_of(fresh->nodes.begin(), fresh->nodes.end(), [&](const auto& n) { return o == n; });
    if (!kept) {
      retire(o);
      removed.push_back(o->name());
    }
  }
  metrics_.config_reload("ok");
  http::log_event(http::log_level::info, "config reloaded",
                  {{"generation", fresh->generation}, {"nodes", fresh->nodes.size()}, {"added", added},
                   {"removed", removed}, {"lanes", fresh->lanes.lanes().size()}, {"keys", config.keys.size()},
                   {"policy", router_.policy_name()}});
  return true;
}

}  // namespace laneway::gateway
