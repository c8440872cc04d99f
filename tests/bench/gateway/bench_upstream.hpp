// A minimal, fast HTTP/1.1 node for the gateway overhead bench, served in-process on its own
// thread and io_context: keep-alive, TCP_NODELAY, pre-built answers. It serves GET /health,
// GET /v1/models (one model, "bench"), and POST /v1/chat/completions: a fixed ~300 B JSON body,
// or, when the body holds "stream":true, a chunked SSE stream of "bench_events" events (default
// 8) written one by one, "bench_gap_ms" apart (default 0), then `data: [DONE]`.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <thread>

namespace laneway::bench {

class bench_upstream {
 public:
  bench_upstream();  // binds 127.0.0.1:0 and starts serving; throws if it cannot bind
  ~bench_upstream();
  bench_upstream(const bench_upstream&) = delete;
  bench_upstream& operator=(const bench_upstream&) = delete;

  std::uint16_t port() const { return port_; }

 private:
  boost::asio::io_context ioc_{1};
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace laneway::bench
