// Active health checks for one node: every `interval`, GET the node's health path on a
// dedicated keep-alive connection within `timeout`; 2xx is healthy. The result feeds the node's
// health state machine. The node's models are refreshed from /v1/models every `models_refresh`
// (and at once when a node first answers).
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>

#include "gateway/config.hpp"
#include "gateway/node.hpp"
#include "gateway/upstream_stream.hpp"

namespace laneway::gateway {

class health_checker {
 public:
  health_checker(node& target, const health_config& config, boost::asio::io_context& ioc);
  void start();
  // Stops the loop and closes its connection; safe from any thread.
  void stop();

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<bool> probe();
  boost::asio::awaitable<void> refresh_models();
  boost::asio::awaitable<bool> ensure_connected();
  void close_connection();

  node& node_;
  const health_config config_;  // a copy: a reload may replace the config this came from
  boost::asio::io_context& ioc_;
  boost::asio::steady_timer timer_;
  upstream_stream stream_;  // plain or TLS, as the node's URL says
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
  std::atomic<bool> stopped_{false};
  std::chrono::steady_clock::time_point next_models_{};
};

}  // namespace laneway::gateway
