// JSON-lines logger. Each line is built in memory and written with one fwrite under a mutex,
// so lines from different threads never interleave.
#include "gateway/http/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

namespace laneway::http {

namespace {
std::atomic<int> g_level{static_cast<int>(log_level::info)};
std::mutex g_write_mutex;

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(now);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now - secs).count();
  std::time_t t = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros));
  return buf;
}

std::string_view level_name(log_level level) {
  switch (level) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
  }
  return "info";
}
}  // namespace

void set_log_level(log_level level) { g_level = static_cast<int>(level); }
bool log_enabled(log_level level) { return static_cast<int>(level) >= g_level.load(); }

bool parse_log_level(std::string_view text, log_level& out) {
  for (auto l : {log_level::debug, log_level::info, log_level::warn, log_level::error}) {
    if (text == level_name(l)) { out = l; return true; }
  }
  return false;
}

void write_line(std::string& text) {
  text += '\n';
  std::lock_guard lock(g_write_mutex);
  std::fwrite(text.data(), 1, text.size(), stderr);  // stderr is unbuffered: one write per line
}

void log_json_unchecked(log_level level, const nlohmann::json& fields) {
  nlohmann::json line = {{"ts", timestamp()}, {"level", level_name(level)}};
  if (fields.is_object()) line.update(fields);
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  write_line(text);
}

void log_json(log_level level, const nlohmann::json& fields) {
  if (log_enabled(level)) log_json_unchecked(level, fields);
}

void log_event_always(log_level level, std::string_view msg, const nlohmann::json& extra) {
  nlohmann::json fields = {{"msg", msg}};
  if (extra.is_object()) fields.update(extra);
  log_json_unchecked(level, fields);
}

void append_json_string(std::string& out, std::string_view value) {
  // nlohmann's serializer does the escaping and the UTF-8 repair.
  out += nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

line_builder::line_builder(log_level level) {
  text_.reserve(512);
  text_ += "{\"ts\":\"";
  text_ += timestamp();
  text_ += "\",\"level\":\"";
  text_ += level_name(level);
  text_ += '"';
}

void line_builder::key(std::string_view k) {
  text_ += ",\"";
  text_ += k;  // keys are our own identifiers: no escaping needed
  text_ += "\":";
}

line_builder& line_builder::str(std::string_view k, std::string_view value) {
  key(k);
  bool plain = true;
  for (unsigned char c : value) plain = plain && c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  if (plain) {
    text_ += '"';
    text_ += value;
    text_ += '"';
  } else {
    append_json_string(text_, value);
  }
  return *this;
}

line_builder& line_builder::str_or_null(std::string_view k, std::string_view value) {
  if (!value.empty()) return str(k, value);
  key(k);
  text_ += "null";
  return *this;
}

line_builder& line_builder::num(std::string_view k, double value) {
  key(k);
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.3f", value);
  text_.append(buf, static_cast<std::size_t>(n));
  return *this;
}

line_builder& line_builder::num(std::string_view k, std::uint64_t value) {
  key(k);
  text_ += std::to_string(value);
  return *this;
}

line_builder& line_builder::num_or_null(std::string_view k, double value, bool present) {
  if (present) return num(k, value);
  key(k);
  text_ += "null";
  return *this;
}

line_builder& line_builder::boolean(std::string_view k, bool value) {
  key(k);
  text_ += value ? "true" : "false";
  return *this;
}

void line_builder::write() {
  text_ += '}';
  write_line(text_);
}

void log_event(log_level level, std::string_view msg, const nlohmann::json& extra) {
  if (!log_enabled(level)) return;
  nlohmann::json fields = {{"msg", msg}};
  if (extra.is_object()) fields.update(extra);
  log_json(level, fields);
}

void log_event(log_level level, std::string_view msg) { log_event(level, msg, nlohmann::json::object()); }

}  // namespace laneway::http
