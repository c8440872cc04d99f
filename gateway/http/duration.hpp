// Durations in config and on the command line (gateway and worker): "250ms", "2s", "1.5m", "1h", or a plain number
// of seconds. Parsing never throws; it says what was wrong.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace laneway::http {

using millis = std::chrono::milliseconds;

// nullopt and `why` set when the text is not a duration.
std::optional<millis> parse_duration(std::string_view text, std::string* why = nullptr);
std::string format_duration(millis d);

}  // namespace laneway::http
