// Keep-alive connections to one node, owned by one I/O thread (no locks): reuse the most recently
// used idle connection that is still alive, else open a new one with a deadline (and, for a https
// node, a TLS handshake: reusing a pooled connection saves both, and a new one resumes the node's
// TLS session when it can). Metrics count opened, reused and closed-by-reason connections and
// connect time.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <memory>
#include <string>
#include <vector>

#include "gateway/http/error.hpp"
#include "gateway/metrics.hpp"
#include "gateway/pool_policy.hpp"
#include "gateway/upstream_stream.hpp"
#include "gateway/url.hpp"

namespace laneway::gateway {

class upstream_tls;

struct upstream_connection {
  explicit upstream_connection(boost::asio::io_context& ioc) : stream(ioc) {}
  upstream_stream stream;
  boost::beast::flat_buffer buffer;  // bytes read past a response; must be empty to reuse
  pool_clock::time_point created{};
  pool_clock::time_point last_used{};
  std::uint64_t requests = 0;
  bool tls_resumed = false;  // its TLS handshake resumed the node's kept session
};
using connection_ptr = std::unique_ptr<upstream_connection>;

struct checkout {
  connection_ptr conn;
  bool reused = false;
  double connect_seconds = 0;  // 0 when reused
};

class upstream_pool {
 public:
  // `tls`: the node's upstream TLS (https), null for http; it outlives the pool.
  upstream_pool(boost::asio::io_context& ioc, node_url url, pool_settings settings, std::string node_name,
                gateway_metrics& metrics, node_metrics node_metrics, const upstream_tls* tls = nullptr);
  ~upstream_pool();

  // A live idle connection when `allow_reuse` and one exists, else a new one.
  boost::asio::awaitable<http::result<checkout>> acquire(bool allow_reuse);
  // Back after a complete response; kept when reusable and the rules allow.
  void release(connection_ptr conn, bool reusable);
  void discard(connection_ptr conn, std::string_view reason);
  // Closes idle connections past their idle timeout or age. Called on the owning thread.
  void sweep();
  void close_all(std::string_view reason);
  std::size_t idle_count() const { return idle_.size(); }

 private:
  void close(connection_ptr conn, std::string_view reason);

  boost::asio::io_context& ioc_;
  node_url url_;
  pool_settings settings_;
  std::string node_name_;
  gateway_metrics& metrics_;
  node_metrics node_metrics_;
  const upstream_tls* tls_;
  std::vector<connection_ptr> idle_;  // most recently used at the back
};

}  // namespace laneway::gateway
