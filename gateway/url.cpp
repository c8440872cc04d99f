// Parsing of node URLs (see url.hpp).
#include "gateway/url.hpp"

namespace laneway::gateway {

std::optional<node_url> parse_node_url(std::string_view text, std::string* why) {
  auto fail = [&](std::string msg) -> std::optional<node_url> {
    if (why) *why = std::move(msg);
    return std::nullopt;
  };
  node_url out;
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return fail("'" + std::string(text) + "' is not scheme://host:port");
  out.scheme = std::string(text.substr(0, scheme_end));
  if (out.scheme != "http" && out.scheme != "https")
    return fail("unsupported scheme '" + out.scheme + "' (use http:// or https://)");
  std::string_view rest = text.substr(scheme_end + 3);
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    out.prefix = std::string(path);
  }
  if (authority.empty()) return fail("'" + std::string(text) + "' has no host");
  if (authority.find('@') != std::string_view::npos) return fail("user:password@ in node URLs is not supported");
  bool has_port = authority.rfind(':') != std::string_view::npos &&
                  (authority.front() != '[' || authority.rfind(':') > authority.find(']'));
  std::string with_port =
      has_port ? std::string(authority) : std::string(authority) + ":" + std::to_string(out.default_port());
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
  if (port != default_port()) h += ":" + std::to_string(port);
  return h;
}

std::string node_url::text() const {
  return scheme + "://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port) + prefix;
}

}  // namespace laneway::gateway
