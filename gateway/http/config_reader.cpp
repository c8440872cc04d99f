// TOML config reading helpers (see config_reader.hpp).
#include "gateway/http/config_reader.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace laneway::http {

std::optional<uint64_t> parse_byte_size(std::string_view text, std::string* why) {
  auto fail = [&](std::string msg) -> std::optional<uint64_t> {
    if (why) *why = std::move(msg);
    return std::nullopt;
  };
  if (text.empty()) return fail("empty size");
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return fail("'" + std::string(text) + "' does not start with a number");
  std::string_view unit(end, text.data() + text.size() - end);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  struct entry {
    std::string_view name;
    double scale;
  };
  static constexpr entry units[] = {{"", 1},          {"B", 1},           {"KiB", 1024.0},  {"MiB", 1048576.0},
                                    {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}, {"KB", 1e3}, {"MB", 1e6},
                                    {"GB", 1e9},      {"TB", 1e12}};
  for (const auto& u : units) {
    if (unit != u.name) continue;
    double bytes = value * u.scale;
    if (!std::isfinite(bytes) || bytes < 0) return fail("'" + std::string(text) + "' is negative or not finite");
    if (bytes > 1.8e19) return fail("'" + std::string(text) + "' is too large");
    return static_cast<uint64_t>(std::llround(bytes));
  }
  return fail("unknown unit '" + std::string(unit) + "' (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)");
}

std::string format_byte_size(uint64_t bytes) {
  static constexpr const char* names[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) v /= 1024.0, ++u;
  char buf[32];
  if (u == 0 || std::fabs(v - std::round(v)) < 0.005) std::snprintf(buf, sizeof buf, "%.0f%s", v, names[u]);
  else std::snprintf(buf, sizeof buf, "%.2f%s", v, names[u]);
  return buf;
}

toml::table parse_toml(const std::string& text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
    throw config_error(msg.str());
  }
}

std::string read_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error(path + ": cannot open the config file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void table_reader::fail(std::string_view key, const std::string& why) const {
  throw config_error(source_ + ": " + prefix_ + std::string(key) + ": " + why);
}

namespace {
thread_local key_census* active_census = nullptr;
}  // namespace

key_census::key_census() : outer_(active_census) { active_census = this; }
key_census::~key_census() { active_census = outer_; }

void key_census::record(std::string key) {
  for (std::size_t open = key.find('['); open != std::string::npos; open = key.find('[', open + 1)) {
    const std::size_t close = key.find(']', open);
    if (close != std::string::npos) key.erase(open + 1, close - open - 1);
  }
  keys_.insert(std::move(key));
}

const toml::node* table_reader::find(std::string_view key) {
  if (active_census) active_census->record(prefix_ + std::string(key));
  seen_.insert(std::string(key));
  return table_.get(key);
}

void table_reader::string(std::string_view key, std::string& out) {
  if (const auto* n = find(key)) {
    auto v = n->value<std::string>();
    if (!n->is_string() || !v) fail(key, "must be a string");
    out = *v;
  }
}

void table_reader::boolean(std::string_view key, bool& out) {
  if (const auto* n = find(key)) {
    if (!n->is_boolean()) fail(key, "must be true or false");
    out = *n->value<bool>();
  }
}

void table_reader::duration(std::string_view key, millis min, millis max, millis& out) {
  if (const auto* n = find(key)) {
    std::optional<millis> d;
    std::string why;
    if (n->is_string()) d = parse_duration(*n->value<std::string>(), &why);
    else if (n->is_integer() || n->is_floating_point()) d = parse_duration(std::to_string(*n->value<double>()), &why);
    else fail(key, "must be a duration such as \"250ms\", \"2s\" or \"1m\"");
    if (!d) fail(key, why);
    if (*d < min || *d > max)
      fail(key, "must be between " + format_duration(min) + " and " + format_duration(max) + " (got " + format_duration(*d) + ")");
    out = *d;
  }
}

void table_reader::byte_size(std::string_view key, uint64_t min, uint64_t max, uint64_t& out) {
  if (const auto* n = find(key)) {
    std::optional<uint64_t> b;
    std::string why;
    if (n->is_string()) b = parse_byte_size(*n->value<std::string>(), &why);
    else if (n->is_integer() && *n->value<long long>() >= 0) b = static_cast<uint64_t>(*n->value<long long>());
    else fail(key, "must be a size such as \"512MiB\" or \"2GiB\"");
    if (!b) fail(key, why);
    if (*b < min || *b > max)
      fail(key, "must be between " + format_byte_size(min) + " and " + format_byte_size(max) + " (got " + format_byte_size(*b) + ")");
    out = *b;
  }
}

void table_reader::string_list(std::string_view key, std::vector<std::string>& out) {
  if (const auto* n = find(key)) {
    const auto* arr = n->as_array();
    if (!arr) fail(key, "must be an array of strings");
    out.clear();
    for (const auto& el : *arr) {
      auto v = el.value<std::string>();
      if (!el.is_string() || !v || v->empty()) fail(key, "must be an array of non-empty strings");
      out.push_back(*v);
    }
  }
}

const toml::table* table_reader::table(std::string_view key) {
  const auto* n = find(key);
  if (!n) return nullptr;
  if (!n->is_table()) fail(key, "must be a table ([" + prefix_ + std::string(key) + "])");
  return n->as_table();
}

void table_reader::finish() const {
  for (const auto& [k, v] : table_) {
    if (!seen_.contains(std::string(k.str()))) fail(k.str(), "unknown key");
  }
}

}  // namespace laneway::http
