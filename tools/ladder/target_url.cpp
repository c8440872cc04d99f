// parse_target_url: https is parsed as http with the default port made 443, then marked https,
// so both schemes share gateway::parse_node_url's checks (see target_url.hpp).
#include "tools/ladder/target_url.hpp"

#include <boost/asio/ip/address.hpp>

namespace laneway::ladder {

std::optional<gateway::node_url> parse_target_url(std::string_view text, std::string* why) {
  constexpr std::string_view https = "https://";
  if (text.substr(0, https.size()) != https) return gateway::parse_node_url(text, why);
  std::string rest(text.substr(https.size()));
  std::string authority = rest.substr(0, rest.find('/'));
  auto colon = authority.rfind(':');
  bool has_port = colon != std::string::npos && (authority.empty() || authority.front() != '[' ||
                                                 colon > authority.find(']'));
  if (!has_port && !authority.empty()) rest.insert(authority.size(), ":443");
  auto url = gateway::parse_node_url("http://" + rest, why);
  if (url) url->scheme = "https";
  return url;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace laneway::ladder
