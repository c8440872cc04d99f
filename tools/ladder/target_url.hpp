// The URL `laneway ladder` loads: http:// or https:// (the ladder speaks TLS itself, while the
// gateway's node URLs are still http only), host, port (default 80 / 443) and a path prefix.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "gateway/url.hpp"

namespace laneway::ladder {

// scheme is "http" or "https"; nullopt and `why` for anything else.
std::optional<gateway::node_url> parse_target_url(std::string_view text, std::string* why);
bool is_ip_literal(const std::string& host);

}  // namespace laneway::ladder
