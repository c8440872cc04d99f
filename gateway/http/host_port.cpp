// Parsing of listen addresses (see host_port.hpp).
#include "gateway/http/host_port.hpp"

#include <charconv>

namespace laneway::http {

bool parse_port(std::string_view text, std::uint16_t& port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

std::optional<host_port> parse_host_port(std::string_view text, std::string* why) {
  auto fail = [&](std::string msg) -> std::optional<host_port> {
    if (why) *why = std::move(msg);
    return std::nullopt;
  };
  host_port out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return fail("'" + std::string(text) + "' is not [address]:port");
    out.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("'" + std::string(text) + "' has no :port");
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (out.host.empty()) return fail("'" + std::string(text) + "' has no host");
  if (!parse_port(port_text, out.port)) return fail("'" + std::string(port_text) + "' is not a port (0-65535)");
  return out;
}

}  // namespace laneway::http
