// The gateway process: builds the nodes, pools, probes, policy and HTTP server from a config,
// runs the I/O threads, and on SIGTERM/SIGINT drains: stop accepting, let requests in progress
// finish up to server.shutdown_grace, then close what is left and exit.
#pragma once

#include <memory>

#include "gateway/config.hpp"

namespace laneway::gateway {

// Runs until a stop signal and the drain are over. Returns the process exit code.
// Throws config_error / boost::system::system_error for start-up failures (e.g. port in use).
int run_gateway(const gateway_config& config);

}  // namespace laneway::gateway
