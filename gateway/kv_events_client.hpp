// Follows a laneway worker's GET /v1/kv/events (SSE) into the router's precise prefix index:
// the `snapshot` event replaces the node's set, each `kv` batch is applied in sequence order. A
// gap, a disconnect, a silent stream (no byte, not even the worker's 15 s keep-alive, for
// `idle_timeout`) or the node's ejection drops the node's entries; it reconnects with
// exponential backoff (to routing.kv_events_backoff_max) and resyncs from the new snapshot.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <string>
#include <string_view>

#include "gateway/config.hpp"
#include "gateway/metrics.hpp"
#include "gateway/node.hpp"
#include "gateway/router.hpp"
#include "gateway/upstream_stream.hpp"

namespace laneway::gateway {

// One server-sent event (only the fields the KV stream uses).
struct sse_event {
  std::string event;  // "message" when the event had no `event:` line
  std::string data;   // data lines joined by '\n'
};
// Takes every complete event ("...\n\n") off the front of `buffer`, in order.
std::vector<sse_event> take_sse_events(std::string& buffer);

// What an event did to the index; `gap` means: reconnect and resync.
enum class kv_apply { snapshot, batch, stale, gap, ignored, bad };
kv_apply apply_kv_event(const sse_event& ev, router& routes, routing::node_id node);

class kv_events_client {
 public:
  kv_events_client(node& target, const gateway_config& config, boost::asio::io_context& ioc, router& routes,
                   gateway_metrics& metrics);
  void start();
  void stop();         // safe from any thread
  void node_ejected();  // safe from any thread: drops the node's entries and the stream

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<bool> follow();  // one connection; true when a snapshot was applied
  void close_stream();

  node& node_;
  millis connect_timeout_;
  millis backoff_max_;
  millis health_interval_;
  boost::asio::io_context& ioc_;
  router& router_;
  gateway_metrics& metrics_;
  boost::asio::steady_timer timer_;
  upstream_stream stream_;  // plain or TLS, as the node's URL says
  boost::beast::flat_buffer buffer_;
  std::atomic<bool> stopped_{false};
};

}  // namespace laneway::gateway
