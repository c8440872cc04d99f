// The worker process: loads the model, tokenizer and chat template, sizes the KV pool, starts
// the scheduler and the HTTP server, logs the KV math, serves until SIGTERM/SIGINT, then drains
// (requests in progress may finish within shutdown_grace) and stops the engine.
#pragma once

#include "backends/worker/worker_config.hpp"

namespace laneway::worker {

// Returns the exit code. Throws engine::gguf_error (bad model file), std::invalid_argument (a
// config the engine rejects) or boost::system::system_error (port in use).
int run_worker(const worker_config& config);

}  // namespace laneway::worker
