// Node addresses: "http://host:port" or "https://host:port", with an optional path prefix
// ("http://h:8000/prefix"). The port defaults to 80 for http and 443 for https. How a https node
// is verified (CA, server name, pin, client certificate) is the node's tls_* keys (upstream_tls.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/http/host_port.hpp"

namespace laneway::gateway {

struct node_url {
  std::string scheme;  // "http" or "https"
  std::string host;    // name or address, without brackets for IPv6
  std::uint16_t port = 0;
  std::string prefix;  // "" or "/something" without a trailing slash
  bool tls() const { return scheme == "https"; }
  std::uint16_t default_port() const { return tls() ? 443 : 80; }
  std::string host_header() const;  // host[:port] as sent in the Host header
  std::string text() const;
};

std::optional<node_url> parse_node_url(std::string_view text, std::string* why = nullptr);

using http::host_port;
using http::parse_host_port;

}  // namespace laneway::gateway
