// One upstream attempt: take a pooled connection to the chosen node, send the request, read the
// response header, and relay the body to the client as it arrives (SSE events are flushed one by
// one; nothing is buffered). While relaying, the client socket is watched: if the client goes
// away, the upstream connection is closed at once so the node stops generating.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <optional>

#include "gateway/config.hpp"
#include "gateway/http/error.hpp"
#include "gateway/http/server.hpp"
#include "gateway/metrics.hpp"
#include "gateway/node.hpp"
#include "gateway/usage_scanner.hpp"

namespace laneway::gateway {

using upstream_request = boost::beast::http::request<boost::beast::http::string_body>;

struct attempt_stats {
  bool reused = false;
  bool tls_resumed = false;  // the connection's TLS handshake resumed a session (when it was opened)
  double connect_ms = 0;
  double ttfb_ms = -1;  // request sent → response header; -1 when no header arrived
  std::size_t bytes_out = 0;
  std::size_t chunks = 0;
  unsigned status = 0;  // the node's status, when it answered
};

enum class attempt_end {
  relayed,   // done: a response (maybe cut short) went to the client, or the client left
  retry,     // failed before anything reached the client; another node may be tried
  failed,    // failed before anything reached the client; do not try elsewhere
};

struct attempt_result {
  attempt_end end = attempt_end::failed;
  std::optional<http::error> err;  // why it failed (also set when a relayed response was cut short)
  bool client_gone = false;
};

struct attempt_context {
  const upstream_config& config;
  gateway_metrics& metrics;
  bool may_retry = false;          // another node is available for a retry
  usage_scanner* usage = nullptr;  // sees every body byte relayed to the client
  std::function<void()> on_head;   // the node's response head arrived (its prefill is done or streaming)
};

boost::asio::awaitable<attempt_result> forward_once(http::exchange& ex, node& target, upstream_request& up,
                                                    const attempt_context& ctx, attempt_stats& stats);

}  // namespace laneway::gateway
