// Serving until a stop signal, then draining: shared by the gateway and the worker. On the first
// SIGTERM/SIGINT the server stops accepting and closes idle keep-alive connections; requests in
// progress may finish until `grace`; what is left is then cut. A second signal cuts at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>

#include "gateway/http/io_pool.hpp"
#include "gateway/http/server.hpp"

namespace laneway::http {

struct drain_result {
  std::size_t requests_cut = 0;
};

// Starts the pool's threads and blocks until a signal and the drain are over; then runs
// `before_stop` on the calling thread while the I/O threads still run (to close what the caller
// owns on them, stop its engine, ...), lets posted handlers and the sessions' last writes finish
// (bounded: about two seconds at most), and stops and joins the pool. Everything the drain uses
// lives until the pool has stopped.
drain_result serve_until_stopped(io_pool& io, server& srv, std::chrono::milliseconds grace,
                                 const std::function<void()>& before_stop = {});

}  // namespace laneway::http
