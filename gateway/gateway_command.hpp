// `laneway gateway`: command-line options on top of the TOML config, then run_gateway().
#pragma once

namespace laneway::gateway {

// argv[0] is "gateway". Exit codes: 0 ok, 1 runtime failure, 2 bad configuration or usage.
int gateway_command(int argc, char** argv);

}  // namespace laneway::gateway
