// Node addresses: "http://host:port" with an optional path prefix ("http://h:8000/prefix").
// https comes with upstream TLS; until then it is rejected with a clear message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace laneway::gateway {

struct node_url {
  std::string scheme;  // "http"
  std::string host;    // name or address, without brackets for IPv6
  std::uint16_t port = 0;
  std::string prefix;  // "" or "/something" without a trailing slash
  std::string host_header() const;  // host[:port] as sent in the Host header
  std::string text() const;
};

std::optional<node_url> parse_node_url(std::string_view text, std::string* why = nullptr);

// "host:port" or "[v6]:port" listen addresses.
struct host_port {
  std::string host;
  std::uint16_t port = 0;
};
std::optional<host_port> parse_host_port(std::string_view text, std::string* why = nullptr);

}  // namespace laneway::gateway
