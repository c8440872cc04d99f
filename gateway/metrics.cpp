// Metric families and their help texts (see metrics.hpp and docs/metrics.md).
#include "gateway/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <unordered_map>

#include "gateway/node_report.hpp"

namespace laneway::gateway {

namespace {

const prometheus::Histogram::BucketBoundaries& latency_buckets() {
  static const prometheus::Histogram::BucketBoundaries b{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                         0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10,
                                                         30,     60,      120,    300};
  return b;
}

}  // namespace

gateway_metrics::gateway_metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  requests_ = &prometheus::BuildCounter().Name("laneway_requests_total").Help("Requests answered by the gateway, by route and status code").Register(r);
  request_seconds_ = &prometheus::BuildHistogram().Name("laneway_request_duration_seconds").Help("Time from the request's first byte to the end of the response").Register(r);
  opened_ = &prometheus::BuildCounter().Name("laneway_upstream_connections_opened_total").Help("Upstream connections opened").Register(r);
  reused_ = &prometheus::BuildCounter().Name("laneway_upstream_connections_reused_total").Help("Requests sent on a pooled keep-alive connection").Register(r);
  closed_ = &prometheus::BuildCounter().Name("laneway_upstream_connections_closed_total").Help("Upstream connections closed, by reason").Register(r);
  connect_seconds_ = &prometheus::BuildHistogram().Name("laneway_upstream_connect_seconds").Help("Time to open an upstream TCP connection").Register(r);
  ttfb_seconds_ = &prometheus::BuildHistogram().Name("laneway_upstream_ttfb_seconds").Help("Request sent to upstream response headers").Register(r);
  in_flight_ = &prometheus::BuildGauge().Name("laneway_in_flight_requests").Help("Requests the gateway has open on each node").Register(r);
  healthy_ = &prometheus::BuildGauge().Name("laneway_node_healthy").Help("1 when the node may receive traffic (probes healthy, circuit not open)").Register(r);
  upstream_errors_ = &prometheus::BuildCounter().Name("laneway_upstream_errors_total").Help("Failed upstream attempts, by node and error kind").Register(r);
  retries_ = &prometheus::BuildCounter().Name("laneway_upstream_retries_total").Help("Requests tried again (another node or a fresh connection), by reason").Register(r);
  ejections_ = &prometheus::BuildCounter().Name("laneway_node_ejections_total").Help("Nodes taken out of rotation, by reason (probe, circuit)").Register(r);
  tls_handshake_failures_ = &prometheus::BuildCounter().Name("laneway_tls_handshake_failures_total").Help("Client TLS handshakes that failed, by reason (timeout, failed)").Register(r);
  tls_cert_not_after_ = &prometheus::BuildGauge().Name("laneway_tls_certificate_not_after_seconds").Help("Expiry (Unix seconds) of the client listener's loaded certificate").Register(r);
  tls_cert_info_ = &prometheus::BuildGauge().Name("laneway_tls_certificate_info").Help("1 for the client listener's loaded certificate: its SHA-256 fingerprint and subject CN").Register(r);
  upstream_tls_seconds_ = &prometheus::BuildHistogram().Name("laneway_upstream_tls_handshake_seconds").Help("TLS handshakes with https nodes, after the TCP connect").Register(r);
  upstream_tls_failures_ = &prometheus::BuildCounter().Name("laneway_upstream_tls_handshake_failures_total").Help("Failed TLS handshakes with https nodes, by node and reason (verify_failed, pin_mismatch, timeout, handshake_failed, alert)").Register(r);
  upstream_tls_handshakes_ = &prometheus::BuildCounter().Name("laneway_upstream_tls_handshakes_total").Help("TLS handshakes with https nodes, by node and result (full, resumed: a kept session was accepted, failed)").Register(r);
  rejected_ = &prometheus::BuildCounter().Name("laneway_rejected_requests_total").Help("Requests answered by the server layer itself (limits, malformed HTTP), by code").Register(r);
  load_reports_ = &prometheus::BuildCounter().Name("laneway_node_load_reports_total").Help("Load reports read from nodes (/load, /metrics, /slots, /api/ps), by result").Register(r);
  reported_running_ = &prometheus::BuildGauge().Name("laneway_node_reported_running").Help("Requests the node says it is running (last report)").Register(r);
  reported_waiting_ = &prometheus::BuildGauge().Name("laneway_node_reported_waiting").Help("Requests the node says are waiting (last report)").Register(r);
  kv_usage_ = &prometheus::BuildGauge().Name("laneway_node_kv_usage").Help("Fraction of the node's KV cache in use (last report; laneway and vLLM)").Register(r);
  kv_events_ = &prometheus::BuildCounter().Name("laneway_kv_events_total").Help("KV events read from laneway nodes, by event (snapshot, batch, stale, gap, bad)").Register(r);
  index_blocks_ = &prometheus::BuildGauge().Name("laneway_prefix_index_blocks").Help("Block hashes the gateway's prefix index holds for the node").Register(r);
  decisions_ = &prometheus::BuildCounter().Name("laneway_routing_decisions_total").Help("Routing decisions, by policy and reason").Register(r);
  predicted_cached_ = &prometheus::BuildCounter().Name("laneway_routing_predicted_cached_tokens_total").Help("Prompt tokens the gateway predicted the node had cached (requests whose usage was seen)").Register(r);
  actual_cached_ = &prometheus::BuildCounter().Name("laneway_routing_actual_cached_tokens_total").Help("Prompt tokens the node reported as cached (usage.prompt_tokens_details.cached_tokens)").Register(r);
  compared_ = &prometheus::BuildCounter().Name("laneway_routing_cached_tokens_compared_total").Help("Requests whose predicted and actual cached tokens were compared").Register(r);
  admissions_ = &prometheus::BuildCounter().Name("laneway_lane_admissions_total").Help("Admission outcomes per lane (admitted, queued, rate_limited, queue_full, queue_timeout, shed)").Register(r);
  queue_wait_ = &prometheus::BuildHistogram().Name("laneway_lane_queue_wait_seconds").Help("Time admitted requests waited in their lane's queue").Register(r);
  lane_in_flight_ = &prometheus::BuildGauge().Name("laneway_lane_in_flight").Help("Requests admitted in each lane and not finished yet (what the lane's max_in_flight caps)").Register(r);
  reloads_ = &prometheus::BuildCounter().Name("laneway_config_reloads_total").Help("Configuration reloads on SIGHUP, by result (ok, rejected)").Register(r);
  capacity_ = &prometheus::BuildGauge().Name("laneway_admission_capacity").Help("Requests the gateway admits at once across lanes (the routable nodes' sequence slots); 0 = unlimited").Register(r).Add({});
  client_disconnects_ = &prometheus::BuildCounter().Name("laneway_client_disconnects_total").Help("Responses cut short because the client went away").Register(r).Add({});
}

gateway_metrics::~gateway_metrics() = default;

node_metrics gateway_metrics::for_node(const std::string& node) {
  node_metrics m;
  m.connections_opened = &opened_->Add({{"node", node}});
  m.connections_reused = &reused_->Add({{"node", node}});
  m.connect_seconds = &connect_seconds_->Add({{"node", node}}, latency_buckets());
  m.ttfb_seconds = &ttfb_seconds_->Add({{"node", node}}, latency_buckets());
  m.in_flight = &in_flight_->Add({{"node", node}});
  m.healthy = &healthy_->Add({{"node", node}});
  return m;
}

void gateway_metrics::request_done(std::string_view route, unsigned status, double seconds) {
  // Label lookups hash and lock; each I/O thread remembers the children it has used.
  struct key {
    const gateway_metrics* owner;
    std::string_view route;  // always one of the static route names
    unsigned status;
    bool operator==(const key&) const = default;
  };
  struct key_hash {
    std::size_t operator()(const key& k) const {
      return std::hash<const void*>()(k.owner) ^ std::hash<std::string_view>()(k.route) * 31 ^ k.status;
    }
  };
  struct children {
    prometheus::Counter* requests;
    prometheus::Histogram* seconds;
  };
  thread_local std::unordered_map<key, children, key_hash> cache;
  auto [it, fresh] = cache.try_emplace(key{this, route, status});
  if (fresh) {
    it->second.requests = &requests_->Add({{"route", std::string(route)}, {"code", std::to_string(status)}});
    it->second.seconds = &request_seconds_->Add({{"route", std::string(route)}}, latency_buckets());
  }
  it->second.requests->Increment();
  it->second.seconds->Observe(seconds);
}

void gateway_metrics::connection_closed(const std::string& node, std::string_view reason) {
  closed_->Add({{"node", node}, {"reason", std::string(reason)}}).Increment();
}

void gateway_metrics::upstream_error(const std::string& node, std::string_view kind) {
  upstream_errors_->Add({{"node", node}, {"kind", std::string(kind)}}).Increment();
}

void gateway_metrics::retry(std::string_view reason) { retries_->Add({{"reason", std::string(reason)}}).Increment(); }

void gateway_metrics::ejection(const std::string& node, std::string_view reason) {
  ejections_->Add({{"node", node}, {"reason", std::string(reason)}}).Increment();
}

void gateway_metrics::client_disconnect() { client_disconnects_->Increment(); }

void gateway_metrics::tls_handshake_failure(std::string_view reason) {
  tls_handshake_failures_->Add({{"reason", std::string(reason)}}).Increment();
}

void gateway_metrics::tls_certificate(const std::string& sha256, const std::string& subject_cn, std::int64_t not_after) {
  tls_cert_not_after_->Add({{"listener", "client"}}).Set(static_cast<double>(not_after));
  if (tls_cert_info_child_) tls_cert_info_->Remove(tls_cert_info_child_);
  tls_cert_info_child_ = &tls_cert_info_->Add({{"listener", "client"}, {"sha256", sha256}, {"subject_cn", subject_cn}});
  tls_cert_info_child_->Set(1);
}

prometheus::Histogram* gateway_metrics::upstream_tls_histogram(const std::string& node) {
  return &upstream_tls_seconds_->Add({{"node", node}}, latency_buckets());
}

void gateway_metrics::upstream_tls_failure(const std::string& node, std::string_view reason) {
  upstream_tls_failures_->Add({{"node", node}, {"reason", std::string(reason)}}).Increment();
}

prometheus::Counter* gateway_metrics::upstream_tls_handshakes(const std::string& node, std::string_view result) {
  return &upstream_tls_handshakes_->Add({{"node", node}, {"result", std::string(result)}});
}

void gateway_metrics::rejected(std::string_view code) { rejected_->Add({{"code", std::string(code)}}).Increment(); }

void gateway_metrics::load_report(const std::string& node, std::string_view result, const node_report& report) {
  load_reports_->Add({{"node", node}, {"result", std::string(result)}}).Increment();
  if (result != "ok") return;
  if (report.running >= 0) reported_running_->Add({{"node", node}}).Set(report.running);
  if (report.waiting >= 0) reported_waiting_->Add({{"node", node}}).Set(report.waiting);
  if (report.kv_usage >= 0) kv_usage_->Add({{"node", node}}).Set(report.kv_usage);
}

void gateway_metrics::kv_event(const std::string& node, std::string_view event) {
  kv_events_->Add({{"node", node}, {"event", std::string(event)}}).Increment();
}

void gateway_metrics::index_blocks(const std::string& node, std::size_t blocks) {
  index_blocks_->Add({{"node", node}}).Set(static_cast<double>(blocks));
}

void gateway_metrics::decision(std::string_view policy, std::string_view reason) {
  decisions_->Add({{"policy", std::string(policy)}, {"reason", std::string(reason)}}).Increment();
}

void gateway_metrics::cached_tokens(const std::string& node, std::int64_t predicted, std::int64_t actual) {
  predicted_cached_->Add({{"node", node}}).Increment(static_cast<double>(std::max<std::int64_t>(0, predicted)));
  actual_cached_->Add({{"node", node}}).Increment(static_cast<double>(std::max<std::int64_t>(0, actual)));
  compared_->Add({{"node", node}}).Increment();
}

void gateway_metrics::admission(const std::string& lane, std::string_view result) {
  admissions_->Add({{"lane", lane}, {"result", std::string(result)}}).Increment();
}

void gateway_metrics::queue_wait(const std::string& lane, double seconds) {
  queue_wait_->Add({{"lane", lane}}, latency_buckets()).Observe(seconds);
}

void gateway_metrics::lane_in_flight(const std::string& lane, double delta) {
  lane_in_flight_->Add({{"lane", lane}}).Increment(delta);
}

void gateway_metrics::admission_capacity(std::size_t requests) { capacity_->Set(static_cast<double>(requests)); }

void gateway_metrics::config_reload(std::string_view result) { reloads_->Add({{"result", std::string(result)}}).Increment(); }

std::string gateway_metrics::serialize() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

}  // namespace laneway::gateway
