// Gateway process wiring and graceful stop (see gateway.hpp).
#include "gateway/gateway.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <optional>

#include "gateway/http/drain.hpp"
#include "gateway/http/io_pool.hpp"
#include "gateway/http/log.hpp"
#include "gateway/http/server.hpp"
#include "gateway/http/tls_context.hpp"
#include "gateway/http/tls_listener.hpp"
#include "gateway/metrics.hpp"
#include "gateway/node.hpp"
#include "gateway/proxy.hpp"
#include "gateway/runtime.hpp"

namespace laneway::gateway {

namespace asio = boost::asio;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Every second, on each I/O thread: close idle upstream connections past their time.
asio::awaitable<void> sweep_pools(runtime& state, std::size_t thread, const std::atomic<bool>& stopping) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!stopping) {
    timer.expires_after(std::chrono::seconds(1));
    co_await timer.async_wait(use_tuple);
    auto s = state.current();
    for (auto& n : s->nodes) n->pool(thread).sweep();
  }
}

// The listener's certificate after an accepted config reload: new handshakes use the files as
// they are now; a bad file keeps the loaded certificate (validate() rejects bad files before,
// so this only fails when one changed in between). `listener` is null without [tls] at start.
void reload_listener(http::tls_listener* listener, const gateway_config& old, const gateway_config& now,
                     gateway_metrics& metrics) {
  const bool moved = now.tls.listen.host != old.tls.listen.host || now.tls.listen.port != old.tls.listen.port;
  if (now.tls.enabled != old.tls.enabled || (now.tls.enabled && moved))
    http::log_event(http::log_level::warn, "config reload: adding, removing or moving the [tls] listener takes effect at restart");
  if (!listener || !now.tls.enabled) return;
  if (auto facts = http::reload_certificate(*listener, now.tls, "client", "config reload"))
    metrics.tls_certificate(facts->sha256, facts->subject_cn, facts->not_after);
}

// SIGHUP: reload, until the signal set is cancelled at shutdown.
asio::awaitable<void> reload_on_sighup(asio::signal_set& signals, runtime& state, bool can_reload,
                                       http::tls_listener* listener, gateway_metrics& metrics) {
  for (;;) {
    auto [ec, sig] = co_await signals.async_wait(use_tuple);
    if (ec) co_return;
    if (!can_reload) {
      http::log_event(http::log_level::warn, "SIGHUP ignored: the gateway was started without a config file");
      continue;
    }
    http::log_event(http::log_level::info, "reloading the config", {{"signal", sig}});
    auto before = state.current()->config;
    if (state.reload()) reload_listener(listener, *before, *state.current()->config, metrics);
  }
}

std::string endpoint_text(const asio::ip::tcp::endpoint& e) {
  std::string address = e.address().is_v6() ? "[" + e.address().to_string() + "]" : e.address().to_string();
  return address + ":" + std::to_string(e.port());
}

}  // namespace

std::shared_ptr<asio::ssl::context> check_tls(const gateway_config& config, const std::string& source) {
  if (!config.tls.enabled) return nullptr;
  auto ctx = http::make_server_tls_context(config.tls, source);
  http::log_certificate("client", config.tls.cert_file, http::context_certificate(*ctx).value_or(http::certificate_facts{}));
  return ctx;
}

int run_gateway(const gateway_config& config, std::function<gateway_config()> reload,
                std::shared_ptr<asio::ssl::context> tls) {
  if (config.tls.enabled && !tls) tls = check_tls(config, "config");
  http::log_level level = http::log_level::info;
  http::parse_log_level(config.log.level, level);
  http::set_log_level(level);

  http::io_pool io(static_cast<std::size_t>(config.server.io_threads));
  gateway_metrics metrics;
  const bool can_reload = static_cast<bool>(reload);
  runtime state(config, std::move(reload), io, metrics);
  proxy pipeline(state, metrics);

  http::server_limits limits{config.server.max_connections, config.server.max_header_bytes, config.server.max_body_bytes,
                             config.server.header_timeout,  config.server.body_timeout,     config.server.idle_timeout};
  http::server server(
      io, limits, [&pipeline](http::exchange& ex) { return pipeline.handle(ex); },
      [&pipeline](const http::rejection& r) { pipeline.on_rejection(r); },
      [&metrics](std::string_view reason) { metrics.tls_handshake_failure(reason); });
  auto bound = server.listen(config.server.listen.host, config.server.listen.port);
  std::optional<asio::ip::tcp::endpoint> tls_bound;
  std::unique_ptr<http::tls_listener> listener;
  if (tls) {
    listener = std::make_unique<http::tls_listener>(tls);
    auto facts = listener->current_certificate();
    metrics.tls_certificate(facts.sha256, facts.subject_cn, facts.not_after);
    tls_bound = server.listen(config.tls.listen.host, config.tls.listen.port, listener->front());
  }

  state.start();
  std::atomic<bool> stopping{false};
  for (std::size_t t = 0; t < io.size(); ++t) asio::co_spawn(io.context(t), sweep_pools(state, t, stopping), asio::detached);
  asio::signal_set hup(io.context(0), SIGHUP);
  asio::co_spawn(io.context(0), reload_on_sighup(hup, state, can_reload, listener.get(), metrics), asio::detached);

  nlohmann::json node_list = nlohmann::json::array();
  for (const auto& n : state.current()->nodes)
    node_list.push_back({{"name", n->name()}, {"url", n->config().url.text()}, {"kind", n->config().kind}});
  nlohmann::json lanes = nlohmann::json::array();
  for (const auto& l : state.current()->lanes.lanes()) lanes.push_back(l.name);
  http::log_event_always(http::log_level::info, "listening",
                  {{"address", endpoint_text(bound)},
                   {"tls_address", tls_bound ? nlohmann::json(endpoint_text(*tls_bound)) : nlohmann::json(nullptr)},
                   {"io_threads", io.size()},
                   {"policy", state.routes().policy_name()},
                   {"lanes", lanes},
                   {"keys", config.keys.size()},
                   {"nodes", node_list}});

  http::serve_until_stopped(io, server, config.server.shutdown_grace, [&] {
    stopping = true;
    asio::post(io.context(0), [&hup] {
      boost::system::error_code ignored;
      hup.cancel(ignored);
    });
    state.stop();
  });
  return 0;
}

}  // namespace laneway::gateway
