// The gateway's configuration: TOML file (conf/gateway.toml documents every key) plus command-line
// overrides. Loading validates everything at start-up and throws config_error naming the key and
// why; unknown keys are errors. Later issues (lanes, keys, TLS, KV routing) extend these tables.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "gateway/http/config_error.hpp"
#include "gateway/url.hpp"

namespace laneway::gateway {

using millis = std::chrono::milliseconds;
using config_error = http::config_error;

struct server_config {
  host_port listen{"127.0.0.1", 8080};
  int io_threads = 2;
  std::size_t max_connections = 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 16 * 1024 * 1024;
  millis header_timeout{10'000};  // whole request header, from its first byte
  millis body_timeout{30'000};    // whole request body
  millis idle_timeout{60'000};    // keep-alive connection waiting for its next request
  millis shutdown_grace{30'000};  // in-flight requests may finish this long after SIGTERM
};

struct upstream_config {
  millis connect_timeout{2'000};
  millis response_timeout{300'000};    // request sent → response headers
  millis stream_idle_timeout{60'000};  // longest silence between body bytes
  std::size_t max_idle_per_node = 32;
  millis pool_idle_timeout{30'000};    // keep shorter than the nodes' keep-alive timeout
  millis max_connection_age{300'000};
  int retries = 1;                     // other nodes tried before the first byte reaches the client
};

struct health_config {
  std::string path = "/health";
  millis interval{2'000};
  millis timeout{1'000};
  int unhealthy_threshold = 2;
  int healthy_threshold = 1;
  int circuit_failures = 3;
  millis circuit_cooldown{10'000};
  millis models_refresh{30'000};
};

struct routing_config {
  std::string policy = "least_in_flight";
};

struct log_config {
  std::string level = "info";
};

struct node_config {
  std::string name;
  node_url url;
  std::string kind = "openai";
  std::string health_path;          // empty: health.path
  std::vector<std::string> models;  // empty: discovered from the node's /v1/models
};

struct gateway_config {
  server_config server;
  upstream_config upstream;
  health_config health;
  routing_config routing;
  log_config log;
  std::vector<node_config> nodes;
};

// Parses TOML text and checks every value; `source` names the file in messages. Cross-field
// rules (validate) run after command-line overrides are applied.
gateway_config parse_config(const std::string& toml_text, const std::string& source);
gateway_config load_config_file(const std::string& path);

// Adds a node given on the command line (`--node URL`), named after its host:port.
void add_node_url(gateway_config& config, const std::string& url);
// Checks cross-field rules (at least one node, unique names, ...).
void validate(const gateway_config& config, const std::string& source);

std::vector<std::string> known_node_kinds();

// Why a routing policy name or a log level is not accepted; nullopt when it is. Shared by the
// file reader and the command-line overrides.
std::optional<std::string> policy_problem(const std::string& name);
std::optional<std::string> log_level_problem(const std::string& level);

}  // namespace laneway::gateway
