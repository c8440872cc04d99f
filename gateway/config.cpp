// TOML → gateway_config, read with http::table_reader (unknown keys reported by their dotted
// name); every value is range-checked here.
#include "gateway/config.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include "gateway/config_lanes.hpp"
#include "gateway/http/config_reader.hpp"
#include "gateway/http/log.hpp"
#include "gateway/api_keys.hpp"
#include "routing/policy.hpp"

namespace laneway::gateway {

namespace {

using http::table_reader;

constexpr millis ms(long long v) { return millis(v); }

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

void read_server(table_reader r, server_config& s) {
  std::string listen;
  r.string("listen", listen);
  if (!listen.empty()) {
    std::string why;
    auto hp = parse_host_port(listen, &why);
    if (!hp) r.fail("listen", why);
    s.listen = *hp;
  }
  r.integer("io_threads", 1, 256, s.io_threads);
  r.integer("max_connections", 1, 1'000'000, s.max_connections);
  r.integer("max_header_bytes", 1024, 1024 * 1024, s.max_header_bytes);
  r.integer("max_body_bytes", 1024, 1024LL * 1024 * 1024, s.max_body_bytes);
  r.duration("header_timeout", ms(10), ms(3'600'000), s.header_timeout);
  r.duration("body_timeout", ms(10), ms(3'600'000), s.body_timeout);
  r.duration("idle_timeout", ms(10), ms(86'400'000), s.idle_timeout);
  r.duration("shutdown_grace", ms(0), ms(3'600'000), s.shutdown_grace);
  r.finish();
}

void read_upstream(table_reader r, upstream_config& u) {
  r.duration("connect_timeout", ms(1), ms(600'000), u.connect_timeout);
  r.duration("response_timeout", ms(1), ms(86'400'000), u.response_timeout);
  r.duration("stream_idle_timeout", ms(1), ms(86'400'000), u.stream_idle_timeout);
  r.integer("max_idle_per_node", 0, 100'000, u.max_idle_per_node);
  r.duration("pool_idle_timeout", ms(1), ms(86'400'000), u.pool_idle_timeout);
  r.duration("max_connection_age", ms(1), ms(86'400'000 * 30LL), u.max_connection_age);
  r.integer("retries", 0, 16, u.retries);
  r.finish();
}

void read_health(table_reader r, health_config& h) {
  r.string("path", h.path);
  if (h.path.empty() || h.path.front() != '/') r.fail("path", "must start with '/' (got \"" + h.path + "\")");
  r.duration("interval", ms(10), ms(3'600'000), h.interval);
  r.duration("timeout", ms(1), ms(600'000), h.timeout);
  r.integer("unhealthy_threshold", 1, 1000, h.unhealthy_threshold);
  r.integer("healthy_threshold", 1, 1000, h.healthy_threshold);
  r.integer("circuit_failures", 1, 1000, h.circuit_failures);
  r.duration("circuit_cooldown", ms(1), ms(3'600'000), h.circuit_cooldown);
  r.duration("models_refresh", ms(100), ms(86'400'000), h.models_refresh);
  r.finish();
}

// tls_* keys: only on https:// nodes, where each is optional.
void read_node_tls(table_reader& r, node_config& n) {
  auto& t = n.tls;
  r.string("tls_ca_file", t.ca_file);
  r.string("tls_server_name", t.server_name);
  std::string pin;
  r.string("tls_pin_sha256", pin);
  r.string("tls_cert_file", t.cert_file);
  r.string("tls_key_file", t.key_file);
  const std::pair<const char*, const std::string*> given[] = {{"tls_ca_file", &t.ca_file},
                                                               {"tls_server_name", &t.server_name},
                                                               {"tls_pin_sha256", &pin},
                                                               {"tls_cert_file", &t.cert_file},
                                                               {"tls_key_file", &t.key_file}};
  for (const auto& [key, value] : given)
    if (!n.url.tls() && !value->empty()) r.fail(key, "is only for https:// nodes (url is \"" + n.url.text() + "\")");
  if (!pin.empty()) {
    t.pin_sha256 = normalize_sha256(pin);
    if (t.pin_sha256.empty())
      r.fail("tls_pin_sha256", "must be the 64 hex digits of the certificate's SHA-256 (colons allowed), as "
                               "`openssl x509 -noout -fingerprint -sha256` prints it");
  }
  if (t.cert_file.empty() != t.key_file.empty())
    r.fail(t.cert_file.empty() ? "tls_cert_file" : "tls_key_file", "tls_cert_file and tls_key_file go together");
}

void read_node(table_reader r, node_config& n) {
  r.string("name", n.name);
  std::string url;
  r.string("url", url);
  if (url.empty()) r.fail("url", "is required (e.g. \"http://127.0.0.1:8081\")");
  std::string why;
  auto parsed = parse_node_url(url, &why);
  if (!parsed) r.fail("url", why);
  n.url = *parsed;
  if (n.name.empty()) n.name = n.url.host_header();
  r.string("kind", n.kind);
  auto kinds = known_node_kinds();
  if (std::find(kinds.begin(), kinds.end(), n.kind) == kinds.end())
    r.fail("kind", "unknown kind \"" + n.kind + "\" (known: " + join(kinds) + ")");
  r.string("health_path", n.health_path);
  if (!n.health_path.empty() && n.health_path.front() != '/') r.fail("health_path", "must start with '/'");
  r.string_list("models", n.models);
  read_node_tls(r, n);
  r.finish();
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':';
  });
}

}  // namespace

std::optional<std::string> policy_problem(const std::string& name) {
  if (routing::make_policy(name)) return std::nullopt;
  return "unknown policy \"" + name + "\" (known: " + join(routing::policy_names()) + ")";
}

std::optional<std::string> log_level_problem(const std::string& level) {
  http::log_level parsed;
  if (http::parse_log_level(level, parsed)) return std::nullopt;
  return "must be one of debug, info, warn, error (got \"" + level + "\")";
}

std::vector<std::string> known_node_kinds() { return {"openai", "laneway", "llamacpp", "vllm", "ollama"}; }

gateway_config parse_config(const std::string& toml_text, const std::string& source) {
  toml::table root = http::parse_toml(toml_text, source);
  gateway_config config;
  table_reader top(root, "", source);
  if (const auto* t = top.table("server")) read_server(table_reader(*t, "server.", source), config.server);
  if (const auto* t = top.table("tls")) http::read_tls_table(table_reader(*t, "tls.", source), config.tls);
  if (const auto* t = top.table("upstream")) read_upstream(table_reader(*t, "upstream.", source), config.upstream);
  if (const auto* t = top.table("health")) read_health(table_reader(*t, "health.", source), config.health);
  if (const auto* t = top.table("routing")) {
    table_reader r(*t, "routing.", source);
    r.string("policy", config.routing.policy);
    if (auto why = policy_problem(config.routing.policy)) r.fail("policy", *why);
    r.duration("load_interval", ms(50), ms(3'600'000), config.routing.load_interval);
    r.duration("kv_events_backoff_max", ms(10), ms(600'000), config.routing.kv_events_backoff_max);
    r.string("session_header", config.routing.session_header);
    r.boolean("sticky_sessions", config.routing.sticky_sessions);
    r.integer("index_memory_bytes", 1024, 1LL << 40, config.routing.index_memory_bytes);
    if (const auto* n = r.find("default_prefill_tokens_per_s")) {
      if (!n->is_number() || n->value<double>().value_or(0) <= 0) r.fail("default_prefill_tokens_per_s", "must be a positive number");
      config.routing.default_prefill_tokens_per_s = *n->value<double>();
    }
    if (const auto* n = r.find("mean_output_tokens")) {
      if (!n->is_number() || n->value<double>().value_or(0) <= 0) r.fail("mean_output_tokens", "must be a positive number");
      config.routing.mean_output_tokens = *n->value<double>();
    }
    if (const auto* n = r.find("move_factor")) {
      if (!n->is_number() || n->value<double>().value_or(0) < 1) r.fail("move_factor", "must be a number >= 1");
      config.routing.move_factor = *n->value<double>();
    }
    r.finish();
  }
  if (const auto* t = top.table("log")) {
    table_reader r(*t, "log.", source);
    r.string("level", config.log.level);
    if (auto why = log_level_problem(config.log.level)) r.fail("level", *why);
    r.finish();
  }
  if (const auto* n = top.find("nodes")) {
    const auto* arr = n->as_array();
    if (!arr) top.fail("nodes", "must be an array of tables ([[nodes]])");
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const auto* t = (*arr)[i].as_table();
      std::string prefix = "nodes[" + std::to_string(i) + "].";
      if (!t) throw config_error(source + ": nodes[" + std::to_string(i) + "]: must be a table");
      node_config node;
      read_node(table_reader(*t, prefix, source), node);
      config.nodes.push_back(std::move(node));
    }
  }
  read_lanes_and_keys(root, source, config);
  top.find("lanes");
  top.find("keys");
  top.finish();
  return config;
}

void validate(const gateway_config& config, const std::string& source) {
  if (config.nodes.empty())
    throw config_error(source + ": nodes: at least one node is required ([[nodes]] in the file or --node URL)");
  std::set<std::string> names;
  for (std::size_t i = 0; i < config.nodes.size(); ++i) {
    const auto& n = config.nodes[i];
    std::string key = source + ": nodes[" + std::to_string(i) + "].name: ";
    if (!valid_name(n.name)) throw config_error(key + "\"" + n.name + "\" must be 1-64 chars of [A-Za-z0-9._:-]");
    if (!names.insert(n.name).second) throw config_error(key + "duplicate node name \"" + n.name + "\"");
  }
  if (config.upstream.pool_idle_timeout > config.upstream.max_connection_age)
    throw config_error(source + ": upstream.pool_idle_timeout: must not exceed upstream.max_connection_age");
  if (config.health.timeout > config.health.interval)
    throw config_error(source + ": health.timeout: must not exceed health.interval");
  validate_lanes(config, source);
  if (config.tls.enabled) http::make_server_tls_context(config.tls, source);
  for (std::size_t i = 0; i < config.nodes.size(); ++i) {
    const auto& t = config.nodes[i].tls;
    if (config.nodes[i].url.tls())
      http::make_client_tls_context(t.files("nodes[" + std::to_string(i) + "].tls_"), t.verifies_chain(), source);
  }
}

gateway_config load_config_file(const std::string& path) {
  gateway_config config = parse_config(http::read_config_file(path), path);
  const auto folder = std::filesystem::path(path).parent_path();
  http::resolve_tls_paths(config.tls, folder);
  for (auto& n : config.nodes)
    for (std::string* file : {&n.tls.ca_file, &n.tls.cert_file, &n.tls.key_file})
      if (!file->empty() && std::filesystem::path(*file).is_relative()) *file = (folder / *file).string();
  return config;
}

void add_node_url(gateway_config& config, const std::string& url) {
  std::string why;
  auto parsed = parse_node_url(url, &why);
  if (!parsed) throw config_error("--node " + url + ": " + why);
  node_config node;
  node.url = *parsed;
  node.name = parsed->host_header();
  config.nodes.push_back(std::move(node));
}

}  // namespace laneway::gateway
