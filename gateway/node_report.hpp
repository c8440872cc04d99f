// What a node tells the gateway about its load, by kind: a laneway worker's GET /load; the
// llamacpp:* gauges of llama.cpp's /metrics and its /slots; vLLM's vllm:* gauges; Ollama's
// /api/ps (loaded models). Pure parsers of those formats (tested on recorded bodies); the
// load_poller fetches them. Fields a kind does not report stay at "unknown" (-1 / 0 / empty).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/error.hpp"

namespace laneway::gateway {

struct node_report {
  std::chrono::steady_clock::time_point at{};  // when it was read; {} = never
  int running = -1;                 // sequences being generated
  int waiting = -1;                 // requests queued at the node
  double kv_usage = -1;             // fraction of KV in use, 0..1
  std::int64_t kv_blocks_total = -1;
  std::int64_t kv_blocks_free = -1;
  std::int64_t kv_blocks_cached = -1;
  std::size_t block_size = 0;       // tokens per KV block (laneway)
  std::optional<std::uint64_t> hash_seed;  // block-hash seed (laneway)
  std::string model;                // the served model (laneway)
  std::string fingerprint;          // model file identity (laneway)
  int max_seqs = -1;
  std::int64_t max_model_len = -1;
  double prefill_tokens_per_s = 0;  // recent prompt throughput; 0 = unknown
  double decode_tokens_per_s = 0;
  std::uint64_t kv_events_seq = 0;
  int slots_total = -1;             // llama.cpp /slots
  int slots_busy = -1;
  std::vector<std::string> loaded_models;  // Ollama /api/ps

  bool known() const { return at != std::chrono::steady_clock::time_point{}; }
  // KV capacity in tokens when the node reports it (laneway: blocks × block size).
  std::int64_t kv_capacity_tokens() const {
    return kv_blocks_total > 0 && block_size > 0 ? kv_blocks_total * static_cast<std::int64_t>(block_size) : -1;
  }
};

// Prometheus text exposition: the sum over all label sets of `name`'s samples; nullopt when the
// text has none.
std::optional<double> prometheus_value(std::string_view text, std::string_view name);

// Each fills the fields its format carries; an error names what was wrong.
http::result<bool> read_laneway_load(std::string_view body, node_report& out);
http::result<bool> read_llamacpp_metrics(std::string_view text, node_report& out);
http::result<bool> read_llamacpp_slots(std::string_view body, node_report& out);
http::result<bool> read_vllm_metrics(std::string_view text, node_report& out);
http::result<bool> read_ollama_ps(std::string_view body, node_report& out);

// "0123456789abcdef" (16 hex digits) → value.
std::optional<std::uint64_t> parse_hex64(std::string_view hex);

}  // namespace laneway::gateway
