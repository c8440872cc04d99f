// Listen addresses "host:port" and "[v6]:port", shared by the gateway's and the worker's
// listeners (server.listen, tls.listen).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace laneway::http {

struct host_port {
  std::string host;
  std::uint16_t port = 0;
};

// nullopt and `why` when `text` is not host:port (port 0-65535).
std::optional<host_port> parse_host_port(std::string_view text, std::string* why = nullptr);
bool parse_port(std::string_view text, std::uint16_t& port);

}  // namespace laneway::http
