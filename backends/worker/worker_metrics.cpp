// Worker metric families (see worker_metrics.hpp).
#include "backends/worker/worker_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace laneway::worker {

namespace {

double seconds_between(engine::steady_clock::time_point a, engine::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// vLLM's bucket choices, so its dashboards' quantile panels look the same.
const prometheus::Histogram::BucketBoundaries ttft_buckets{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5,
                                                           0.75,  1.0,   2.5,  5.0,  7.5,  10.0, 20.0, 40.0, 80.0, 160.0};
const prometheus::Histogram::BucketBoundaries itl_buckets{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4,
                                                          0.5,  0.75,  1.0,  2.5,   5.0, 7.5,  10.0, 20.0, 40.0, 80.0};
const prometheus::Histogram::BucketBoundaries e2e_buckets{0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0,
                                                          20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0};
const prometheus::Histogram::BucketBoundaries token_buckets{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};

}  // namespace

worker_metrics::worker_metrics(std::string model_name)
    : model_(std::move(model_name)), registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  const prometheus::Labels l{{"model_name", model_}};
  auto gauge = [&](const char* name, const char* help) { return &prometheus::BuildGauge().Name(name).Help(help).Register(r).Add(l); };
  auto counter = [&](const char* name, const char* help) { return &prometheus::BuildCounter().Name(name).Help(help).Register(r).Add(l); };
  auto histogram = [&](const char* name, const char* help, const prometheus::Histogram::BucketBoundaries& b) {
    return &prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add(l, b);
  };
  running_ = gauge("vllm:num_requests_running", "Number of requests in model execution batches");
  waiting_ = gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed");
  kv_usage_ = gauge("vllm:kv_cache_usage_perc", "KV-cache usage: 1 means 100 percent of blocks referenced by sequences");
  kv_total_ = gauge("laneway_worker_kv_blocks_total", "KV blocks in the preallocated pool");
  kv_free_ = gauge("laneway_worker_kv_blocks_free", "KV blocks not referenced by any sequence (includes cached)");
  kv_cached_ = gauge("laneway_worker_kv_blocks_cached", "Free KV blocks that still hold a reusable prefix block");
  prompt_tokens_ = counter("vllm:prompt_tokens_total", "Number of prefill tokens processed");
  generation_tokens_ = counter("vllm:generation_tokens_total", "Number of generation tokens processed");
  prefix_queries_ = counter("vllm:prefix_cache_queries_total", "Prefix cache queries, in prompt tokens looked up");
  prefix_hits_ = counter("vllm:prefix_cache_hits_total", "Prefix cache hits, in prompt tokens found cached");
  preemptions_ = counter("vllm:num_preemptions_total", "Cumulative number of preemptions");
  steps_ = counter("laneway_worker_engine_steps_total", "Scheduler steps (forward passes) run");
  success_ = &prometheus::BuildCounter().Name("vllm:request_success_total").Help("Count of finished requests by finish reason").Register(r);
  http_ = &prometheus::BuildCounter().Name("laneway_worker_http_requests_total").Help("HTTP answers by route and status code").Register(r);
  ttft_ = histogram("vllm:time_to_first_token_seconds", "Time to first token in seconds", ttft_buckets);
  itl_ = histogram("vllm:inter_token_latency_seconds", "Time between consecutive output tokens in seconds", itl_buckets);
  e2e_ = histogram("vllm:e2e_request_latency_seconds", "End-to-end request latency in seconds", e2e_buckets);
  queue_ = histogram("vllm:request_queue_time_seconds", "Time spent waiting before the first scheduling", e2e_buckets);
  prompt_hist_ = histogram("vllm:request_prompt_tokens", "Prompt tokens per request", token_buckets);
  gen_hist_ = histogram("vllm:request_generation_tokens", "Generated tokens per request", token_buckets);
}

worker_metrics::~worker_metrics() = default;

void worker_metrics::set_backend(std::string_view backend, std::string_view device) {
  prometheus::BuildGauge()
      .Name("laneway_worker_backend_info")
      .Help("The compute backend and device serving the model (value 1)")
      .Register(*registry_)
      .Add({{"model_name", model_}, {"backend", std::string(backend)}, {"device", std::string(device)}})
      .Set(1);
}

void worker_metrics::request_finished(const engine::finish_info& f) {
  const char* reason = engine::to_string(f.reason);
  success_->Add({{"model_name", model_}, {"finished_reason", reason}}).Increment();
  if (f.reason == engine::finish_reason::error) return;
  const engine::steady_clock::time_point zero{};
  if (f.first_token != zero) ttft_->Observe(seconds_between(f.submitted, f.first_token));
  if (f.first_scheduled != zero) queue_->Observe(seconds_between(f.submitted, f.first_scheduled));
  e2e_->Observe(seconds_between(f.submitted, f.finished));
  prompt_hist_->Observe(f.prompt_tokens);
  gen_hist_->Observe(f.completion_tokens);
}

void worker_metrics::inter_token(double seconds) { itl_->Observe(seconds); }

void worker_metrics::http_answer(std::string_view route, unsigned status) {
  http_->Add({{"route", std::string(route)}, {"code", std::to_string(status)}}).Increment();
}

std::string worker_metrics::serialize(const engine::scheduler& s) {
  const engine::load_info load = s.load();
  const engine::engine_counters c = s.counters();
  std::lock_guard lock(mutex_);
  running_->Set(load.running);
  waiting_->Set(load.waiting);
  const double total = static_cast<double>(load.kv_blocks_total);
  kv_usage_->Set(total > 0 ? (total - static_cast<double>(load.kv_blocks_free)) / total : 0.0);
  kv_total_->Set(static_cast<double>(load.kv_blocks_total));
  kv_free_->Set(static_cast<double>(load.kv_blocks_free));
  kv_cached_->Set(static_cast<double>(load.kv_blocks_cached));
  auto advance = [](prometheus::Counter* counter, uint64_t now, uint64_t& seen) {
    if (now > seen) counter->Increment(static_cast<double>(now - seen));
    seen = std::max(seen, now);
  };
  advance(prompt_tokens_, c.prompt_tokens, seen_.prompt_tokens);
  advance(generation_tokens_, c.generation_tokens, seen_.generation_tokens);
  advance(prefix_queries_, c.prefix_queries, seen_.prefix_queries);
  advance(prefix_hits_, c.prefix_hits, seen_.prefix_hits);
  advance(preemptions_, c.preemptions, seen_.preemptions);
  advance(steps_, c.steps, seen_.steps);
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

}  // namespace laneway::worker
