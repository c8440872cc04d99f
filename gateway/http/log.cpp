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

void log_json(log_level level, const nlohmann::json& fields) {
  if (!log_enabled(level)) return;
  nlohmann::json line = {{"ts", timestamp()}, {"level", level_name(level)}};
  if (fields.is_object()) line.update(fields);
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text += '\n';
  std::lock_guard lock(g_write_mutex);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

void log_event(log_level level, std::string_view msg, const nlohmann::json& extra) {
  if (!log_enabled(level)) return;
  nlohmann::json fields = {{"msg", msg}};
  if (extra.is_object()) fields.update(extra);
  log_json(level, fields);
}

void log_event(log_level level, std::string_view msg) { log_event(level, msg, nlohmann::json::object()); }

}  // namespace laneway::http
