// The gateway's Prometheus metrics (prometheus-cpp registry, served by our own /metrics route).
// Names are part of the interface: docs/metrics.md lists them; dashboards and tests rely on them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T> class Family;
}  // namespace prometheus

namespace laneway::gateway {

struct node_report;

// A node's metric children, looked up once so the request path does no label hashing.
struct node_metrics {
  prometheus::Counter* connections_opened = nullptr;
  prometheus::Counter* connections_reused = nullptr;
  prometheus::Histogram* connect_seconds = nullptr;
  prometheus::Histogram* ttfb_seconds = nullptr;
  prometheus::Gauge* in_flight = nullptr;
  prometheus::Gauge* healthy = nullptr;
};

class gateway_metrics {
 public:
  gateway_metrics();
  ~gateway_metrics();

  node_metrics for_node(const std::string& node);
  void request_done(std::string_view route, unsigned status, double seconds);
  void connection_closed(const std::string& node, std::string_view reason);
  void upstream_error(const std::string& node, std::string_view kind);
  void retry(std::string_view reason);
  void ejection(const std::string& node, std::string_view reason);
  void client_disconnect();
  void rejected(std::string_view code);
  void tls_handshake_failure(std::string_view reason);  // "timeout" or "failed"
  // The client listener's loaded certificate (start and every SIGHUP; one thread at a time).
  void tls_certificate(const std::string& sha256, const std::string& subject_cn, std::int64_t not_after);
  // Upstream TLS per node: the handshake-time histogram, failures by reason (docs/tls.md).
  prometheus::Histogram* upstream_tls_histogram(const std::string& node);
  void upstream_tls_failure(const std::string& node, std::string_view reason);
  // Upstream TLS handshakes per node by result: "full", "resumed" (a kept session), "failed".
  prometheus::Counter* upstream_tls_handshakes(const std::string& node, std::string_view result);

  // Node kinds, prefix index, routing and lanes (docs/metrics.md).
  void load_report(const std::string& node, std::string_view result, const node_report& report);
  void kv_event(const std::string& node, std::string_view event);
  void index_blocks(const std::string& node, std::size_t blocks);
  void decision(std::string_view policy, std::string_view reason);
  void cached_tokens(const std::string& node, std::int64_t predicted, std::int64_t actual);
  void admission(const std::string& lane, std::string_view result);
  void queue_wait(const std::string& lane, double seconds);
  void lane_in_flight(const std::string& lane, double delta);  // +1 admitted, -1 finished
  void config_reload(std::string_view result);
  void admission_capacity(std::size_t requests);  // 0 = unlimited

  std::string serialize() const;  // Prometheus text exposition format

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* request_seconds_;
  prometheus::Family<prometheus::Counter>* opened_;
  prometheus::Family<prometheus::Counter>* reused_;
  prometheus::Family<prometheus::Counter>* closed_;
  prometheus::Family<prometheus::Histogram>* connect_seconds_;
  prometheus::Family<prometheus::Histogram>* ttfb_seconds_;
  prometheus::Family<prometheus::Gauge>* in_flight_;
  prometheus::Family<prometheus::Gauge>* healthy_;
  prometheus::Family<prometheus::Counter>* upstream_errors_;
  prometheus::Family<prometheus::Counter>* retries_;
  prometheus::Family<prometheus::Counter>* ejections_;
  prometheus::Family<prometheus::Counter>* rejected_;
  prometheus::Family<prometheus::Counter>* tls_handshake_failures_;
  prometheus::Family<prometheus::Gauge>* tls_cert_not_after_;
  prometheus::Family<prometheus::Gauge>* tls_cert_info_;
  prometheus::Gauge* tls_cert_info_child_ = nullptr;
  prometheus::Family<prometheus::Histogram>* upstream_tls_seconds_;
  prometheus::Family<prometheus::Counter>* upstream_tls_failures_;
  prometheus::Family<prometheus::Counter>* upstream_tls_handshakes_;
  prometheus::Counter* client_disconnects_;
  prometheus::Family<prometheus::Counter>* load_reports_;
  prometheus::Family<prometheus::Gauge>* reported_running_;
  prometheus::Family<prometheus::Gauge>* reported_waiting_;
  prometheus::Family<prometheus::Gauge>* kv_usage_;
  prometheus::Family<prometheus::Counter>* kv_events_;
  prometheus::Family<prometheus::Gauge>* index_blocks_;
  prometheus::Family<prometheus::Counter>* decisions_;
  prometheus::Family<prometheus::Counter>* predicted_cached_;
  prometheus::Family<prometheus::Counter>* actual_cached_;
  prometheus::Family<prometheus::Counter>* compared_;
  prometheus::Family<prometheus::Counter>* admissions_;
  prometheus::Family<prometheus::Histogram>* queue_wait_;
  prometheus::Family<prometheus::Gauge>* lane_in_flight_;
  prometheus::Family<prometheus::Counter>* reloads_;
  prometheus::Gauge* capacity_;
};

}  // namespace laneway::gateway
