// Reading TOML config files, shared by the gateway and the worker: a table_reader per table
// records which keys it consumed, so a key nobody asked for is reported with its full dotted name,
// and every value is type- and range-checked with a message naming the file and key
// ("worker.toml: kv.memory: must be a size such as \"2GiB\""). Also byte sizes ("512MiB").
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>
#if __has_include(<toml++/toml.hpp>)
#include <toml++/toml.hpp>
#else
#include <toml++/toml.h>  // Debian 12 ships toml++ 3.3 under its older header name
#endif

#include "gateway/http/config_error.hpp"
#include "gateway/http/duration.hpp"

namespace laneway::http {

// "2GiB", "512MiB", "64KiB", "1GB" (powers of 1000), "4096" (bytes). nullopt and `why` when not.
std::optional<uint64_t> parse_byte_size(std::string_view text, std::string* why = nullptr);
std::string format_byte_size(uint64_t bytes);  // "2GiB", "1.5GiB", "300MiB", "123B"

// Parses TOML text; a syntax error becomes config_error "source:line:column: what".
toml::table parse_toml(const std::string& text, const std::string& source);
// Reads a whole file; config_error "path: cannot open the config file" when it can't.
std::string read_config_file(const std::string& path);

// While one is alive, every dotted key any table_reader on this thread looks up (present in the
// file or not) is recorded, array indexes written as "[]" ("nodes[].url"): what `laneway gateway
// --print-keys` and `laneway worker --print-keys` list, so docs/configuration.md can be checked
// against the loaders (tests/docs).
class key_census {
 public:
  key_census();
  ~key_census();
  key_census(const key_census&) = delete;
  key_census& operator=(const key_census&) = delete;
  const std::set<std::string>& keys() const { return keys_; }
  void record(std::string key);

 private:
  std::set<std::string> keys_;
  key_census* outer_;
};

class table_reader {
 public:
  table_reader(const toml::table& table, std::string prefix, const std::string& source)
      : table_(table), prefix_(std::move(prefix)), source_(source) {}

  [[noreturn]] void fail(std::string_view key, const std::string& why) const;
  const toml::node* find(std::string_view key);

  void string(std::string_view key, std::string& out);
  void boolean(std::string_view key, bool& out);
  void integer(std::string_view key, long long min, long long max, auto& out) {
    if (const auto* n = find(key)) {
      if (!n->is_integer()) fail(key, "must be an integer");
      long long v = *n->value<long long>();
      if (v < min || v > max)
        fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + " (got " + std::to_string(v) + ")");
      out = static_cast<std::remove_reference_t<decltype(out)>>(v);
    }
  }
  void duration(std::string_view key, millis min, millis max, millis& out);
  void byte_size(std::string_view key, uint64_t min, uint64_t max, uint64_t& out);
  void string_list(std::string_view key, std::vector<std::string>& out);
  // Sub-table `key`; nullptr when absent.
  const toml::table* table(std::string_view key);
  // Rejects every key that was never asked for.
  void finish() const;

 private:
  const toml::table& table_;
  std::string prefix_;
  const std::string& source_;
  std::set<std::string> seen_;
};

}  // namespace laneway::http
