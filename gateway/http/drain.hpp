// Serving until a stop signal, then draining: shared by the gateway and the worker. On the first
// SIGTERM/SIGINT the server stops accepting and closes idle keep-alive connections; requests in
// progress may finish until `grace`; what is left is then cut. A second signal cuts at once.
#pragma once

#include <chrono>
#include <cstddef>

#include "gateway/http/io_pool.hpp"
#include "gateway/http/server.hpp"

namespace laneway::http {

struct drain_result {
  std::size_t requests_cut = 0;
};

// Starts the pool's threads and blocks until a signal and the drain are over. The I/O threads keep
// running afterwards (the caller closes what it owns on them, then stops and joins the pool).
drain_result serve_until_stopped(io_pool& io, server& srv, std::chrono::milliseconds grace);

// Lets handlers already posted and the sessions' last writes finish
// (bounded: at most about two seconds), then stops and joins the pool.
void stop_io(io_pool& io);

}  // namespace laneway::http
