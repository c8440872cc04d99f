// The gateway process: builds the runtime (nodes, pools, agents, router, lanes, keys) and the
// HTTP server from a config, runs the I/O threads; SIGHUP reloads the config (runtime::reload);
// SIGTERM/SIGINT drain: stop accepting, let requests in progress finish up to
// server.shutdown_grace, then close what is left and exit.
#pragma once

#include <functional>
#include <memory>

#include "gateway/config.hpp"

namespace boost::asio::ssl {
class context;
}

namespace laneway::gateway {

// Runs until a stop signal and the drain are over. Returns the process exit code. `reload`
// re-reads the configuration on SIGHUP (throws config_error when it is bad); empty: SIGHUP
// reloads nothing and is logged.
// Throws config_error / boost::system::system_error for start-up failures (e.g. port in use).
// With config.tls enabled, `tls` is its server context (check_tls builds it).
int run_gateway(const gateway_config& config, std::function<gateway_config()> reload = {},
                std::shared_ptr<boost::asio::ssl::context> tls = nullptr);

// Loads and checks [tls]'s certificate and key (config_error naming the file and key); nullptr
// when TLS is not configured.
std::shared_ptr<boost::asio::ssl::context> check_tls(const gateway_config& config, const std::string& source);

}  // namespace laneway::gateway
