// Gateway process wiring and graceful stop (see gateway.hpp).
#include "gateway/gateway.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "gateway/health_checker.hpp"
#include "gateway/http/drain.hpp"
#include "gateway/http/io_pool.hpp"
#include "gateway/http/log.hpp"
#include "gateway/http/server.hpp"
#include "gateway/metrics.hpp"
#include "gateway/node.hpp"
#include "gateway/proxy.hpp"

namespace laneway::gateway {

namespace asio = boost::asio;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Every second, on each I/O thread: close idle upstream connections past their time.
asio::awaitable<void> sweep_pools(std::vector<std::unique_ptr<node>>& nodes, std::size_t thread,
                                  const std::atomic<bool>& stopping) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!stopping) {
    timer.expires_after(std::chrono::seconds(1));
    co_await timer.async_wait(use_tuple);
    for (auto& n : nodes) n->pool(thread).sweep();
  }
}

}  // namespace

int run_gateway(const gateway_config& config) {
  http::log_level level = http::log_level::info;
  http::parse_log_level(config.log.level, level);
  http::set_log_level(level);

  http::io_pool io(static_cast<std::size_t>(config.server.io_threads));
  gateway_metrics metrics;
  std::vector<std::unique_ptr<node>> nodes;
  for (const auto& nc : config.nodes) nodes.push_back(std::make_unique<node>(nc, config, io, metrics));
  auto policy = routing::make_policy(config.routing.policy);
  proxy pipeline(config, metrics, nodes, *policy);

  http::server_limits limits{config.server.max_connections, config.server.max_header_bytes, config.server.max_body_bytes,
                             config.server.header_timeout,  config.server.body_timeout,     config.server.idle_timeout};
  http::server server(
      io, limits, [&pipeline](http::exchange& ex) { return pipeline.handle(ex); },
      [&pipeline](const http::rejection& r) { pipeline.on_rejection(r); });
  auto bound = server.listen(config.server.listen.host, config.server.listen.port);

  std::vector<std::unique_ptr<health_checker>> checkers;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    checkers.push_back(std::make_unique<health_checker>(*nodes[i], config, io.context(i % io.size())));
    checkers.back()->start();
  }
  std::atomic<bool> stopping{false};
  for (std::size_t t = 0; t < io.size(); ++t) asio::co_spawn(io.context(t), sweep_pools(nodes, t, stopping), asio::detached);

  std::string address = bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string();
  nlohmann::json node_list = nlohmann::json::array();
  for (const auto& n : nodes) node_list.push_back({{"name", n->name()}, {"url", n->config().url.text()}});
  http::log_event_always(http::log_level::info, "listening",
                  {{"address", address + ":" + std::to_string(bound.port())},
                   {"io_threads", io.size()},
                   {"policy", policy->name()},
                   {"nodes", node_list}});

  http::serve_until_stopped(io, server, config.server.shutdown_grace);
  stopping = true;
  for (auto& c : checkers) c->stop();
  for (std::size_t t = 0; t < io.size(); ++t) {
    asio::post(io.context(t), [&nodes, t] {
      for (auto& n : nodes) n->pool(t).close_all("shutdown");
    });
  }
  http::stop_io(io);
  return 0;
}

}  // namespace laneway::gateway
