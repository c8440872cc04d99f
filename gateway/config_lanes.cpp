// [[lanes]] and [[keys]]: each entry read with a table_reader (unknown keys named), every value
// range-checked; then the cross-field rules. Rates are TOML numbers (integer or float).
#include "gateway/config_lanes.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <type_traits>

#include "gateway/api_keys.hpp"

namespace laneway::gateway {

namespace {

using http::table_reader;

constexpr millis ms(long long v) { return millis(v); }

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':';
  });
}

// A non-negative number (integer or float) no larger than `max`.
void number(table_reader& r, std::string_view key, double max, double& out) {
  const toml::node* n = r.find(key);
  if (!n) return;
  double v = 0;
  if (n->is_integer()) v = static_cast<double>(*n->value<long long>());
  else if (n->is_floating_point()) v = *n->value<double>();
  else r.fail(key, "must be a number");
  if (!(v >= 0 && v <= max)) r.fail(key, "must be between 0 and " + std::to_string(static_cast<long long>(max)) +
                                             " (got " + std::to_string(v) + ")");
  out = v;
}

void read_lane(table_reader r, lane_config& l) {
  r.string("name", l.name);
  if (!valid_name(l.name)) r.fail("name", "\"" + l.name + "\" must be 1-64 chars of [A-Za-z0-9._:-]");
  r.string_list("models", l.models);
  r.string_list("paths", l.paths);
  for (const auto& p : l.paths)
    if (p.empty() || p.front() != '/') r.fail("paths", "\"" + p + "\" must start with '/'");
  r.integer("priority", -1000, 1000, l.priority);
  number(r, "weight", 1000, l.weight);
  if (l.weight <= 0) r.fail("weight", "must be greater than 0");
  r.integer("max_in_flight", 0, 1'000'000, l.max_in_flight);
  r.integer("max_queue", 0, 1'000'000, l.max_queue);
  r.duration("queue_timeout", ms(1), ms(3'600'000), l.queue_timeout);
  number(r, "requests_per_s", 1e6, l.requests_per_s);
  number(r, "request_burst", 1e6, l.request_burst);
  number(r, "tokens_per_min", 1e12, l.tokens_per_min);
  number(r, "token_burst", 1e12, l.token_burst);
  r.boolean("sheddable", l.sheddable);
  r.integer("context_budget", 0, 100'000'000, l.context_budget);
  r.finish();
}

bool is_sha256_hex(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

void read_key(table_reader r, key_config& k) {
  r.string("name", k.name);
  r.string("sha256", k.sha256);
  std::transform(k.sha256.begin(), k.sha256.end(), k.sha256.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  // A client certificate (docs/tls.md) may stand for the key, or be a second way in.
  std::string cert_sha256;
  r.string("cert_sha256", cert_sha256);
  r.string("cert_cn", k.cert_cn);
  if (!cert_sha256.empty()) {
    k.cert_sha256 = normalize_sha256(cert_sha256);
    if (k.cert_sha256.empty())
      r.fail("cert_sha256", "must be the 64 hex digits of the client certificate's SHA-256 (colons allowed), as "
                            "`openssl x509 -noout -fingerprint -sha256` prints it");
  }
  const bool has_cert = !k.cert_sha256.empty() || !k.cert_cn.empty();
  if (!(k.sha256.empty() && has_cert) && !is_sha256_hex(k.sha256))
    r.fail("sha256", "must be the 64 hex digits of SHA-256(key) (laneway gateway --hash-key KEY prints it)" +
                         std::string(has_cert ? "" : ", or give cert_sha256 / cert_cn for a client certificate"));
  r.string("tenant", k.tenant);
  if (k.tenant.empty()) k.tenant = k.name;
  if (!valid_name(k.tenant)) r.fail("tenant", "\"" + k.tenant + "\" must be 1-64 chars of [A-Za-z0-9._:-]");
  r.string("lane", k.lane);
  r.boolean("allow_lane_header", k.allow_lane_header);
  r.finish();
}

template <typename T, typename Read>
void read_array(table_reader& top, const toml::table& root, std::string_view key, const std::string& source,
                std::vector<T>& out, Read read) {
  const toml::node* n = root.get(key);
  if (!n) return;
  const auto* arr = n->as_array();
  if (!arr) top.fail(key, "must be an array of tables ([[" + std::string(key) + "]])");
  for (std::size_t i = 0; i < arr->size(); ++i) {
    std::string where = std::string(key) + "[" + std::to_string(i) + "]";
    const auto* t = (*arr)[i].as_table();
    if (!t) throw config_error(source + ": " + where + ": must be a table");
    T item;
    if constexpr (std::is_same_v<T, key_config>) item.name = "key" + std::to_string(i);
    read(table_reader(*t, where + ".", source), item);
    out.push_back(std::move(item));
  }
}

}  // namespace

void read_lanes_and_keys(const toml::table& root, const std::string& source, gateway_config& config) {
  table_reader top(root, "", source);
  read_array(top, root, "lanes", source, config.lanes, read_lane);
  read_array(top, root, "keys", source, config.keys, read_key);
}

std::size_t fallback_lane(const std::vector<lane_config>& lanes) {
  for (std::size_t i = 0; i < lanes.size(); ++i)
    if (lanes[i].name == "default") return i;
  for (std::size_t i = lanes.size(); i-- > 0;)
    if (lanes[i].models.empty() && lanes[i].paths.empty()) return i;
  return lanes.empty() ? 0 : lanes.size() - 1;
}

void validate_lanes(const gateway_config& config, const std::string& source) {
  std::set<std::string> lanes;
  for (std::size_t i = 0; i < config.lanes.size(); ++i) {
    const auto& l = config.lanes[i];
    if (!lanes.insert(l.name).second)
      throw config_error(source + ": lanes[" + std::to_string(i) + "].name: duplicate lane name \"" + l.name + "\"");
  }
  std::set<std::string> names, hashes;
  for (std::size_t i = 0; i < config.keys.size(); ++i) {
    const auto& k = config.keys[i];
    std::string at = source + ": keys[" + std::to_string(i) + "].";
    if (!names.insert(k.name).second) throw config_error(at + "name: duplicate key name \"" + k.name + "\"");
    if (!k.sha256.empty() && !hashes.insert(k.sha256).second)
      throw config_error(at + "sha256: the same key is listed twice");
    if (!k.cert_sha256.empty() && !hashes.insert("cert:" + k.cert_sha256).second)
      throw config_error(at + "cert_sha256: the same certificate is listed twice");
    if (!k.cert_cn.empty() && !hashes.insert("cn:" + k.cert_cn).second)
      throw config_error(at + "cert_cn: the same subject CN is listed twice");
    bool known = k.lane.empty() || lanes.count(k.lane) || (config.lanes.empty() && k.lane == "default");
    if (!known) throw config_error(at + "lane: no lane named \"" + k.lane + "\" in [[lanes]]");
  }
}

}  // namespace laneway::gateway
