// Parsing of node URLs and listen addresses (see url.hpp).
#include "gateway/url.hpp"

#include <charconv>

namespace laneway::gateway {

namespace {

bool parse_port(std::string_view text, std::uint16_t& port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

}  // namespace

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

std::optional<node_url> parse_node_url(std::string_view text, std::string* why) {
  auto fail = [&](std::string msg) -> std::optional<node_url> {
    if (why) *why = std::move(msg);
    return std::nullopt;
  };
  node_url out;
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return fail("'" + std::string(text) + "' is not scheme://host:port");
  out.scheme = std::string(text.substr(0, scheme_end));
  if (out.scheme == "https") return fail("https nodes are not supported yet (upstream TLS is planned); use http://");
  if (out.scheme != "http") return fail("unsupported scheme '" + out.scheme + "' (use http://)");
  std::string_view rest = text.substr(scheme_end + 3);
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    out.prefix = std::string(path);
  }
  if (authority.find('@') != std::string_view::npos) return fail("user:password@ in node URLs is not supported");
  bool has_port = authority.rfind(':') != std::string_view::npos &&
                  (authority.front() != '[' || authority.rfind(':') > authority.find(']'));
  std::string with_port = has_port ? std::string(authority) : std::string(authority) + ":80";
  std::string hp_why;
  auto hp = parse_host_port(with_port, &hp_why);
  if (!hp) return fail(hp_why);
  if (hp->port == 0) return fail("node port must not be 0");
  out.host = hp->host;
  out.port = hp->port;
  return out;
}

std::string node_url::host_header() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != 80) h += ":" + std::to_string(port);
  return h;
}

std::string node_url::text() const {
  return scheme + "://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port) + prefix;
}

}  // namespace laneway::gateway
