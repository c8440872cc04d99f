// Structured logging: one JSON object per line on stderr, with a timestamp and a level.
// Access logs (one line per request per hop) and events (start, eject, stop) share the format.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace laneway::http {

enum class log_level { debug = 0, info = 1, warn = 2, error = 3 };

void set_log_level(log_level level);
bool log_enabled(log_level level);
// Parses "debug" | "info" | "warn" | "error"; false when unknown.
bool parse_log_level(std::string_view text, log_level& out);

// Writes `fields` plus "ts" (RFC 3339, UTC, microseconds) and "level" as one line.
void log_json(log_level level, const nlohmann::json& fields);
// An event line: {"ts","level","msg", ...extra}.
void log_event(log_level level, std::string_view msg, const nlohmann::json& extra);
void log_event(log_level level, std::string_view msg);
// Written whatever the level (start-up facts a supervisor needs, such as the bound address).
void log_event_always(log_level level, std::string_view msg, const nlohmann::json& extra);

// A log line built field by field straight into one string: the access log's fast path, with
// no JSON tree. Check log_enabled() before building one.
class line_builder {
 public:
  explicit line_builder(log_level level);
  line_builder& str(std::string_view key, std::string_view value);
  line_builder& str_or_null(std::string_view key, std::string_view value);  // "" → null
  line_builder& num(std::string_view key, double value);
  line_builder& num(std::string_view key, std::uint64_t value);
  line_builder& num_or_null(std::string_view key, double value, bool present);
  line_builder& boolean(std::string_view key, bool value);
  void write();

 private:
  void key(std::string_view k);
  std::string text_;
};

// Appends `value` as a JSON string literal (quotes, escapes; invalid UTF-8 bytes become U+FFFD).
void append_json_string(std::string& out, std::string_view value);

}  // namespace laneway::http
