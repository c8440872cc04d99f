// Per-node, per-thread upstream connection pool (see upstream_pool.hpp).
#include "gateway/upstream_pool.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include "gateway/upstream_client.hpp"

namespace laneway::gateway {

upstream_pool::upstream_pool(boost::asio::io_context& ioc, node_url url, pool_settings settings, std::string node_name,
                             gateway_metrics& metrics, node_metrics node_metrics, const upstream_tls* tls)
    : ioc_(ioc),
      url_(std::move(url)),
      settings_(settings),
      node_name_(std::move(node_name)),
      metrics_(metrics),
      node_metrics_(node_metrics),
      tls_(tls) {}

upstream_pool::~upstream_pool() = default;

boost::asio::awaitable<http::result<checkout>> upstream_pool::acquire(bool allow_reuse) {
  auto now = pool_clock::now();
  while (allow_reuse && !idle_.empty()) {
    connection_ptr conn = std::move(idle_.back());
    idle_.pop_back();
    auto verdict = on_checkout(settings_, conn->created, conn->last_used, now);
    if (verdict != pool_verdict::keep) {
      close(std::move(conn), to_string(verdict));
      continue;
    }
    // A connection used moments ago is almost surely alive; if the node closed it anyway, the
    // stale-connection retry covers it. Older ones are checked (one non-blocking peek).
    if (now - conn->last_used > std::chrono::seconds(1) && connection_dead(conn->stream)) {
      close(std::move(conn), "upstream_closed");
      continue;
    }
    node_metrics_.connections_reused->Increment();
    co_return checkout{std::move(conn), true, 0};
  }
  auto conn = std::make_unique<upstream_connection>(ioc_);
  auto started = pool_clock::now();
  auto connected = co_await connect_node(conn->stream, url_, tls_, settings_.connect_timeout);
  if (!connected) co_return connected.err();
  double seconds = std::chrono::duration<double>(pool_clock::now() - started).count();
  node_metrics_.connections_opened->Increment();
  node_metrics_.connect_seconds->Observe(seconds);
  conn->created = pool_clock::now();
  conn->last_used = conn->created;
  conn->tls_resumed = *connected;
  co_return checkout{std::move(conn), false, seconds};
}

void upstream_pool::release(connection_ptr conn, bool reusable) {
  auto now = pool_clock::now();
  ++conn->requests;
  conn->last_used = now;
  if (conn->buffer.size() != 0) reusable = false;
  auto verdict = on_release(settings_, reusable, conn->created, now, idle_.size());
  if (verdict != pool_verdict::keep) {
    close(std::move(conn), to_string(verdict));
    return;
  }
  idle_.push_back(std::move(conn));
}

void upstream_pool::discard(connection_ptr conn, std::string_view reason) { close(std::move(conn), reason); }

void upstream_pool::sweep() {
  auto now = pool_clock::now();
  std::vector<connection_ptr> keep;
  for (auto& conn : idle_) {
    auto verdict = on_checkout(settings_, conn->created, conn->last_used, now);
    if (verdict == pool_verdict::keep && connection_dead(conn->stream)) {
      close(std::move(conn), "upstream_closed");
    } else if (verdict == pool_verdict::keep) {
      keep.push_back(std::move(conn));
    } else {
      close(std::move(conn), to_string(verdict));
    }
  }
  idle_ = std::move(keep);
}

void upstream_pool::close_all(std::string_view reason) {
  for (auto& conn : idle_) close(std::move(conn), reason);
  idle_.clear();
}

void upstream_pool::close(connection_ptr conn, std::string_view reason) {
  if (!conn) return;
  boost::beast::error_code ignored;
  conn->stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  conn->stream.socket().close(ignored);
  metrics_.connection_closed(node_name_, reason);
}

}  // namespace laneway::gateway
