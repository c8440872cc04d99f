// Parsers of the nodes' load formats (see node_report.hpp). Formats: laneway docs/worker.md;
// llama.cpp server /metrics (llamacpp:requests_processing, requests_deferred,
// prompt_tokens_seconds) and /slots (is_processing, or the older state 0/1); vLLM /metrics
// (vllm:num_requests_running, num_requests_waiting, kv_cache_usage_perc — gpu_cache_usage_perc
// before v0.7); Ollama GET /api/ps {"models":[{"name":...}]}.
#include "gateway/node_report.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace laneway::gateway {

using json = nlohmann::json;

namespace {

http::result<bool> bad(std::string what) { return http::make_error(http::error_kind::upstream_bad_response, std::move(what)); }

// A Prometheus gauge as a count: NaN, negative or absurd values are "unknown" (-1), never a
// float-to-int conversion out of range.
int as_int(std::optional<double> v) {
  if (!v || !(*v >= 0) || *v > static_cast<double>(std::numeric_limits<int>::max())) return -1;
  return static_cast<int>(*v);
}

// A type-checked field of a node's JSON report: absent or null keeps the fallback; a value of
// the wrong type or out of range is an error naming the field (a node that sends garbage is
// reported, not half-read).
class report_reader {
 public:
  report_reader(const json& j, std::string_view what) : j_(j), what_(what) {}
  std::optional<std::string> error;

  std::int64_t integer(const char* key, std::int64_t fallback = -1, std::int64_t hi = INT64_MAX) {
    const json* v = get(key);
    if (!v) return fallback;
    // Whole floats pass (some servers write 3.0); the range check comes before any conversion.
    double d = v->is_number() ? v->get<double>() : 0;
    if (!v->is_number() || d != std::floor(d) || d < -9.0e15 || d > 9.0e15 || d > static_cast<double>(hi)) {
      fail(key, "must be an integer" + (hi < INT64_MAX ? " up to " + std::to_string(hi) : std::string()));
      return fallback;
    }
    return v->is_number_integer() ? v->get<std::int64_t>() : static_cast<std::int64_t>(d);
  }
  double number(const char* key, double fallback = 0) {
    const json* v = get(key);
    if (!v) return fallback;
    if (!v->is_number()) return fail(key, "must be a number"), fallback;
    return v->get<double>();
  }
  std::string string(const char* key) {
    const json* v = get(key);
    if (!v) return {};
    if (!v->is_string()) return fail(key, "must be a string"), std::string();
    return v->get<std::string>();
  }
  http::result<bool> finish() const { return error ? bad(*error) : http::result<bool>(true); }

 private:
  const json* get(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  void fail(const char* key, const std::string& why) {
    if (!error) error = std::string(what_) + ": '" + key + "' " + why;
  }
  const json& j_;
  std::string_view what_;
};

constexpr std::int64_t int_max = std::numeric_limits<int>::max();

}  // namespace

std::optional<std::uint64_t> parse_hex64(std::string_view hex) {
  if (hex.empty() || hex.size() > 16) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), v, 16);
  if (ec != std::errc() || end != hex.data() + hex.size()) return std::nullopt;
  return v;
}

std::optional<double> prometheus_value(std::string_view text, std::string_view name) {
  std::optional<double> sum;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line.front() == '#' || !line.starts_with(name)) continue;
    std::string_view rest = line.substr(name.size());
    if (rest.empty()) continue;
    if (rest.front() == '{') {
      std::size_t close = rest.rfind('}');
      if (close == std::string_view::npos) continue;
      rest = rest.substr(close + 1);
    } else if (rest.front() != ' ' && rest.front() != '\t') {
      continue;  // a longer name sharing the prefix
    }
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    std::string value(rest.substr(0, rest.find_first_of(" \t\r")));
    char* end = nullptr;
    double v = std::strtod(value.c_str(), &end);
    if (value.empty() || end != value.c_str() + value.size()) continue;
    sum = sum.value_or(0) + v;
  }
  return sum;
}

http::result<bool> read_laneway_load(std::string_view body, node_report& out) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (!j.is_object()) return bad("/load is not a JSON object");
  if (!j.contains("running") || !j.contains("kv_blocks_total")) return bad("/load lacks running / kv_blocks_total");
  report_reader r(j, "/load");
  out.running = static_cast<int>(r.integer("running", -1, int_max));
  out.waiting = static_cast<int>(r.integer("waiting", -1, int_max));
  out.max_seqs = static_cast<int>(r.integer("max_seqs", -1, int_max));
  out.max_model_len = r.integer("max_model_len");
  out.kv_blocks_total = r.integer("kv_blocks_total");
  out.kv_blocks_free = r.integer("kv_blocks_free");
  out.kv_blocks_cached = r.integer("kv_blocks_cached");
  out.block_size = static_cast<std::size_t>(std::max<std::int64_t>(0, r.integer("block_size", 0, 1 << 20)));
  if (out.kv_blocks_total > 0 && out.kv_blocks_free >= 0)
    out.kv_usage = 1.0 - static_cast<double>(out.kv_blocks_free) / static_cast<double>(out.kv_blocks_total);
  out.hash_seed = parse_hex64(r.string("hash_seed"));
  out.model = r.string("model");
  out.fingerprint = r.string("model_fingerprint");
  out.kv_events_seq = static_cast<std::uint64_t>(std::max<std::int64_t>(0, r.integer("kv_events_seq", 0)));
  out.prefill_tokens_per_s = r.number("prefill_tokens_per_s");
  out.decode_tokens_per_s = r.number("decode_tokens_per_s");
  return r.finish();
}

http::result<bool> read_llamacpp_metrics(std::string_view text, node_report& out) {
  auto processing = prometheus_value(text, "llamacpp:requests_processing");
  if (!processing) return bad("/metrics has no llamacpp:requests_processing");
  out.running = as_int(processing);
  out.waiting = as_int(prometheus_value(text, "llamacpp:requests_deferred"));
  out.prefill_tokens_per_s = prometheus_value(text, "llamacpp:prompt_tokens_seconds").value_or(0);
  out.decode_tokens_per_s = prometheus_value(text, "llamacpp:predicted_tokens_seconds").value_or(0);
  if (auto usage = prometheus_value(text, "llamacpp:kv_cache_usage_ratio")) out.kv_usage = *usage;  // older servers
  return true;
}

http::result<bool> read_llamacpp_slots(std::string_view body, node_report& out) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (!j.is_array()) return bad("/slots is not a JSON array");
  int busy = 0;
  for (const auto& slot : j) {
    if (!slot.is_object()) return bad("/slots: an entry is not an object");
    auto p = slot.find("is_processing");
    if (p != slot.end() && p->is_boolean()) {
      busy += p->get<bool>() ? 1 : 0;
      continue;
    }
    report_reader r(slot, "/slots");
    busy += r.integer("state", 0) != 0 ? 1 : 0;
    if (r.error) return bad(*r.error);
  }
  out.slots_total = static_cast<int>(j.size());
  out.slots_busy = busy;
  out.max_seqs = out.slots_total;
  return true;
}

http::result<bool> read_vllm_metrics(std::string_view text, node_report& out) {
  auto running = prometheus_value(text, "vllm:num_requests_running");
  if (!running) return bad("/metrics has no vllm:num_requests_running");
  out.running = as_int(running);
  out.waiting = as_int(prometheus_value(text, "vllm:num_requests_waiting"));
  auto usage = prometheus_value(text, "vllm:kv_cache_usage_perc");
  if (!usage) usage = prometheus_value(text, "vllm:gpu_cache_usage_perc");
  if (usage) out.kv_usage = *usage;
  return true;
}

http::result<bool> read_ollama_ps(std::string_view body, node_report& out) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (!j.is_object() || !j.contains("models") || !j["models"].is_array()) return bad("/api/ps has no \"models\" array");
  out.loaded_models.clear();
  for (const auto& m : j["models"]) {
    if (!m.is_object()) continue;
    report_reader r(m, "/api/ps");
    std::string name = r.string("name");
    if (name.empty()) name = r.string("model");
    if (r.error) return bad(*r.error);
    if (!name.empty()) out.loaded_models.push_back(std::move(name));
  }
  return true;
}

}  // namespace laneway::gateway
