// Structured logging: one JSON object per line on stderr, with a timestamp and a level.
// Access logs (one line per request per hop) and events (start, eject, stop) share the format.
#pragma once

#include <nlohmann/json_fwd.hpp>
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

}  // namespace laneway::http
