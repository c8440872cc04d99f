// Active health probes and model discovery (see health_checker.hpp).
#include "gateway/health_checker.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "gateway/http/log.hpp"
#include "gateway/upstream_client.hpp"

namespace laneway::gateway {

namespace asio = boost::asio;

health_checker::health_checker(node& target, const health_config& config, asio::io_context& ioc)
    : node_(target), config_(config), ioc_(ioc), timer_(ioc), stream_(ioc) {}

void health_checker::start() { asio::co_spawn(ioc_, run(), asio::detached); }

void health_checker::stop() {
  stopped_ = true;
  asio::post(ioc_, [this] {
    timer_.cancel();
    close_connection();
  });
}

void health_checker::close_connection() {
  boost::beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
  buffer_.clear();
  connected_ = false;
}

asio::awaitable<bool> health_checker::ensure_connected() {
  if (connected_ && !connection_dead(stream_)) co_return true;
  close_connection();
  auto result = co_await connect_node(stream_, node_.config().url, node_.tls(), config_.timeout);
  if (!result) {
    http::log_event(http::log_level::debug, "probe connect failed", {{"node", node_.name()}, {"error", result.err().message}});
    co_return false;
  }
  connected_ = true;
  co_return true;
}

asio::awaitable<bool> health_checker::probe() {
  if (!co_await ensure_connected()) co_return false;
  auto res = co_await get_on(stream_, buffer_, node_.config().url, node_.health_path(), config_.timeout, 64 * 1024);
  if (!res) {
    close_connection();
    co_return false;
  }
  if (!res->keep_alive()) close_connection();
  co_return res->result_int() >= 200 && res->result_int() < 300;
}

asio::awaitable<void> health_checker::refresh_models() {
  if (!node_.config().models.empty()) co_return;  // configured, not discovered
  if (!co_await ensure_connected()) co_return;
  auto res = co_await get_on(stream_, buffer_, node_.config().url, "/v1/models", config_.timeout * 5, 4 * 1024 * 1024);
  if (!res) {
    close_connection();
    co_return;
  }
  if (!res->keep_alive()) close_connection();
  if (res->result_int() != 200) {
    http::log_event(http::log_level::warn, "model discovery failed",
                    {{"node", node_.name()}, {"status", res->result_int()}});
    co_return;
  }
  auto doc = nlohmann::json::parse(res->body(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("data") || !doc["data"].is_array()) {
    http::log_event(http::log_level::warn, "model discovery: /v1/models is not an OpenAI model list", {{"node", node_.name()}});
    co_return;
  }
  std::vector<model_entry> models;
  for (const auto& m : doc["data"]) {
    if (!m.is_object() || !m.contains("id") || !m["id"].is_string()) continue;
    models.push_back({m["id"].get<std::string>(), m.dump()});
  }
  node_.set_discovered_models(std::move(models));
}

asio::awaitable<void> health_checker::run() {
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  while (!stopped_) {
    bool was_healthy = node_.healthy();
    bool ok = co_await probe();
    if (stopped_) break;
    node_.on_probe(ok);
    auto now = std::chrono::steady_clock::now();
    if (ok && (now >= next_models_ || !was_healthy)) {
      co_await refresh_models();
      next_models_ = now + config_.models_refresh;
    }
    timer_.expires_after(config_.interval);
    co_await timer_.async_wait(use_tuple);
  }
  close_connection();
}

}  // namespace laneway::gateway
