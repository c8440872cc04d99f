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
#include "gateway/http/tls_config.hpp"
#include "gateway/http/tls_context.hpp"
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
  millis load_interval{1'000};        // how often each node's load is polled (/load, /metrics, /api/ps)
  millis kv_events_backoff_max{5'000};  // longest pause between reconnects of a KV event stream
  std::string session_header;         // non-empty: this header (else the body's `user`) is a session key
  bool sticky_sessions = false;       // kv_aware: a session keeps its node while that is not much worse
  double default_prefill_tokens_per_s = 2000;  // TTFT estimate: every node's prior prefill rate (routing.md)
  double mean_output_tokens = 256;    // how long a busy sequence slot stays busy, in tokens
  double move_factor = 2.0;           // kv_aware: leave a prefix's nodes only when this × slower (routing.md)
  std::size_t index_memory_bytes = 64u << 20;  // bound of the approximate prefix index
};

// A lane: a class of traffic with its own concurrency, queue and rate limits (conf/gateway.toml).
struct lane_config {
  std::string name;
  std::vector<std::string> models;  // match rules: the request's model (empty: any)
  std::vector<std::string> paths;   // and its path (empty: any)
  int priority = 0;                 // higher is served first when capacity frees
  double weight = 1;                // share among lanes of the same priority (> 0)
  std::size_t max_in_flight = 0;    // requests of this lane at the nodes at once; 0: no cap
  std::size_t max_queue = 64;       // requests waiting for admission; beyond it a 429; 0: no queue
  millis queue_timeout{30'000};     // waited longer: 503 queue_timeout
  double requests_per_s = 0;        // token bucket per tenant in this lane; 0: no limit
  double request_burst = 0;         // bucket size; 0: max(1, requests_per_s)
  double tokens_per_min = 0;        // prompt + max_tokens estimate, corrected by usage; 0: no limit
  double token_burst = 0;           // 0: tokens_per_min (one minute's worth)
  bool sheddable = false;           // refused (503 shed) while the nodes are saturated
  std::size_t context_budget = 0;   // tokens one request may hold in KV; 0: no per-node KV cap
};

// An identity: an API key (its SHA-256) and/or a client certificate (its SHA-256 fingerprint or
// its subject CN), the tenant it bills and the lane it lands in.
struct key_config {
  std::string name;
  std::string sha256;              // 64 lowercase hex digits of SHA-256(key); empty: no API key
  std::string tenant;
  std::string lane;                // empty: classified by the lanes' match rules
  bool allow_lane_header = false;  // may pick another lane with an X-Lane header
  std::string cert_sha256;         // a verified client certificate with this fingerprint (hex)
  std::string cert_cn;             // or with this subject common name
};

// The client-facing TLS listener ([tls]; docs/tls.md). Present: a TLS listener on `listen` next to
// the plain one on server.listen. Relative file paths are relative to the config file's folder.
using tls_config = http::tls_listener_config;

struct log_config {
  std::string level = "info";
};

// How a https node is reached ([[nodes]] tls_* keys; docs/tls.md). Paths relative to the config.
struct node_tls_config {
  std::string ca_file;      // PEM CA certificates that sign the node's; empty: the system store
  std::string server_name;  // SNI and the name verified; empty: the URL's host
  std::string pin_sha256;   // 64 lowercase hex digits: the node's certificate's SHA-256; empty: none
  std::string cert_file;    // client certificate chain shown to the node (with key_file)
  std::string key_file;
  bool operator==(const node_tls_config&) const = default;
  // The chain is verified in the handshake unless only a pin vouches for the node.
  bool verifies_chain() const { return pin_sha256.empty() || !ca_file.empty(); }
  http::client_tls_files files(std::string key_prefix) const { return {ca_file, cert_file, key_file, std::move(key_prefix)}; }
};

struct node_config {
  std::string name;
  node_url url;
  node_tls_config tls;
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
  tls_config tls;
  std::vector<node_config> nodes;
  std::vector<lane_config> lanes;  // empty: one unlimited lane named "default"
  std::vector<key_config> keys;    // empty: no API keys required (tenant "anonymous")
};

// Parses TOML text and checks every value; `source` names the file in messages. Cross-field
// rules (validate) run after command-line overrides are applied.
gateway_config parse_config(const std::string& toml_text, const std::string& source);
gateway_config load_config_file(const std::string& path);

// Adds a node given on the command line (`--node URL`), named after its host:port.
void add_node_url(gateway_config& config, const std::string& url);
// Checks cross-field rules (at least one node, unique names, ...) and loads the TLS files
// ([tls], the nodes' tls_*) so a bad one is reported by its key, at start and on reload.
void validate(const gateway_config& config, const std::string& source);

std::vector<std::string> known_node_kinds();

// Why a routing policy name or a log level is not accepted; nullopt when it is. Shared by the
// file reader and the command-line overrides.
std::optional<std::string> policy_problem(const std::string& name);
std::optional<std::string> log_level_problem(const std::string& level);

}  // namespace laneway::gateway
