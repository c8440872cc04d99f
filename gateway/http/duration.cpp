// Duration parsing for config values (see duration.hpp).
#include "gateway/http/duration.hpp"

#include <charconv>
#include <cmath>

namespace laneway::http {

std::optional<millis> parse_duration(std::string_view text, std::string* why) {
  auto fail = [&](std::string msg) -> std::optional<millis> {
    if (why) *why = std::move(msg);
    return std::nullopt;
  };
  if (text.empty()) return fail("empty duration");
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return fail("'" + std::string(text) + "' does not start with a number");
  std::string_view unit(end, text.data() + text.size() - end);
  double scale = 0;
  if (unit == "ms") scale = 1;
  else if (unit == "s" || unit.empty()) scale = 1000;
  else if (unit == "m") scale = 60'000;
  else if (unit == "h") scale = 3'600'000;
  else return fail("unknown unit '" + std::string(unit) + "' (use ms, s, m or h)");
  double ms = value * scale;
  if (!std::isfinite(ms) || ms < 0) return fail("'" + std::string(text) + "' is negative or not finite");
  if (ms > 1e12) return fail("'" + std::string(text) + "' is too long");
  return millis(static_cast<long long>(std::llround(ms)));
}

std::string format_duration(millis d) {
  auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace laneway::http
