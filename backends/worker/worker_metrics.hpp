// The worker's Prometheus metrics. The engine's names are vLLM's (vllm:*, label model_name), so
// dashboards and routers built for vLLM read a laneway worker unchanged; laneway_worker_* adds
// what vLLM does not have (KV blocks, HTTP answers by route and code). docs/metrics.md lists them.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "backends/engine/scheduler.hpp"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T> class Family;
}  // namespace prometheus

namespace laneway::worker {

class worker_metrics {
 public:
  explicit worker_metrics(std::string model_name);
  ~worker_metrics();

  // One finished generation: success counter by reason and the latency histograms.
  void request_finished(const engine::finish_info& f);
  void inter_token(double seconds);
  void http_answer(std::string_view route, unsigned status);
  // laneway_worker_backend_info{backend, device} 1: which compute backend and device serve.
  void set_backend(std::string_view backend, std::string_view device);

  // Prometheus text; gauges and engine counters are refreshed from `s` first.
  std::string serialize(const engine::scheduler& s);

 private:
  std::string model_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge *running_, *waiting_, *kv_usage_, *kv_total_, *kv_free_, *kv_cached_;
  prometheus::Counter *prompt_tokens_, *generation_tokens_, *prefix_queries_, *prefix_hits_, *preemptions_, *steps_;
  prometheus::Family<prometheus::Counter>* success_;
  prometheus::Family<prometheus::Counter>* http_;
  prometheus::Histogram *ttft_, *itl_, *e2e_, *queue_, *prompt_hist_, *gen_hist_;
  std::mutex mutex_;                 // serialize() from several I/O threads
  engine::engine_counters seen_{};   // engine counters already added
};

}  // namespace laneway::worker
