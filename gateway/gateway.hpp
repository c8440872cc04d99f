// The gateway process: builds the runtime (nodes, pools, agents, router, lanes, keys) and the
// HTTP server from a config, runs the I/O threads; SIGHUP reloads the config (runtime::reload);
// SIGTERM/SIGINT drain: stop accepting, let requests in progress finish up to
// server.shutdown_grace, then close what is left and exit.
#pragma once

#include <functional>
#include <memory>

#include "gateway/config.hpp"

namespace laneway::gateway {

// Runs until a stop signal and the drain are over. Returns the process exit code. `reload`
// re-reads the configuration on SIGHUP (throws config_error when it is bad); empty: SIGHUP
// reloads nothing and is logged.
// Throws config_error / boost::system::system_error for start-up failures (e.g. port in use).
int run_gateway(const gateway_config& config, std::function<gateway_config()> reload = {});

}  // namespace laneway::gateway
