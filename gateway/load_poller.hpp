// Polls what a node reports about its load, every routing.load_interval while it is healthy, on
// a dedicated keep-alive connection: laneway GET /load (and, once per tokenizer, GET
// /v1/tokenizer?format=json and the vocab-only GGUF of GET /v1/tokenizer, for worker-identical
// block hashes); llamacpp GET /metrics and /slots; vllm GET /metrics; ollama GET /api/ps.
// Reports go to the node (node_report) and the router (rate estimates, KV capacity).
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "gateway/config.hpp"
#include "gateway/metrics.hpp"
#include "gateway/node.hpp"
#include "gateway/prompt_hasher.hpp"
#include "gateway/router.hpp"
#include "gateway/upstream_client.hpp"
#include "gateway/upstream_stream.hpp"

namespace laneway::gateway {

class load_poller {
 public:
  load_poller(node& target, millis interval, millis timeout, boost::asio::io_context& ioc, router& routes,
              tokenizer_cache& tokenizers, gateway_metrics& metrics);
  void start();
  void stop();  // safe from any thread

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<http::result<bool>> poll(node_report& report);
  boost::asio::awaitable<http::result<string_response>> get(const std::string& path, millis timeout, std::size_t max_body);
  boost::asio::awaitable<void> fetch_tokenizer(std::uint64_t seed);
  void close_connection();

  node& node_;
  millis interval_;
  millis timeout_;
  boost::asio::io_context& ioc_;
  router& router_;
  tokenizer_cache& tokenizers_;
  gateway_metrics& metrics_;
  boost::asio::steady_timer timer_;
  upstream_stream stream_;  // plain or TLS, as the node's URL says
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
  std::atomic<bool> stopped_{false};
};

}  // namespace laneway::gateway
