// The KV event stream consumer (see kv_events_client.hpp). Event formats: docs/kv-cache.md and
// backends/worker/kv_events_route.cpp (hashes as 16 hex digits).
#include "gateway/kv_events_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

#include "gateway/http/log.hpp"
#include "gateway/node_report.hpp"
#include "gateway/upstream_client.hpp"

namespace laneway::gateway {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using json = nlohmann::json;

constexpr std::size_t max_event_bytes = 256u * 1024 * 1024;  // a snapshot of millions of blocks fits
constexpr millis idle_timeout{45'000};                        // three of the worker's keep-alives

std::vector<sse_event> take_sse_events(std::string& buffer) {
  std::vector<sse_event> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t end = buffer.find("\n\n", start);
    if (end == std::string::npos) break;
    std::string_view block(buffer.data() + start, end - start);
    sse_event ev{"message", ""};
    bool has_data = false;
    while (!block.empty()) {
      std::size_t eol = block.find('\n');
      std::string_view line = block.substr(0, eol);
      block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty() || line.front() == ':') continue;  // comment (keep-alive)
      std::size_t colon = line.find(':');
      std::string_view field = line.substr(0, colon);
      std::string_view value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (field == "event") ev.event = value;
      else if (field == "data") {
        if (has_data) ev.data += '\n';
        ev.data += value;
        has_data = true;
      }
    }
    if (has_data) out.push_back(std::move(ev));
    start = end + 2;
  }
  buffer.erase(0, start);
  return out;
}

namespace {

bool read_hashes(const json& j, const char* key, std::vector<std::uint64_t>& out) {
  auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_array()) return false;
  out.reserve(it->size());
  for (const auto& h : *it) {
    if (!h.is_string()) return false;
    auto v = parse_hex64(h.get_ref<const std::string&>());
    if (!v) return false;
    out.push_back(*v);
  }
  return true;
}

}  // namespace

kv_apply apply_kv_event(const sse_event& ev, router& routes, routing::node_id node) {
  if (ev.event != "snapshot" && ev.event != "kv") return kv_apply::ignored;
  json j = json::parse(ev.data, nullptr, false);
  if (!j.is_object() || !j.contains("seq") || !j["seq"].is_number_unsigned()) return kv_apply::bad;
  auto seq = j["seq"].get<std::uint64_t>();
  if (ev.event == "snapshot") {
    std::vector<std::uint64_t> hashes;
    if (!read_hashes(j, "hashes", hashes)) return kv_apply::bad;
    routes.kv_snapshot(node, seq, hashes);
    return kv_apply::snapshot;
  }
  std::vector<std::uint64_t> stored, removed;
  if (!read_hashes(j, "stored", stored) || !read_hashes(j, "removed", removed)) return kv_apply::bad;
  switch (routes.kv_batch(node, seq, stored, removed)) {
    case routing::batch_result::applied: return kv_apply::batch;
    case routing::batch_result::stale: return kv_apply::stale;
    case routing::batch_result::gap: return kv_apply::gap;
  }
  return kv_apply::bad;
}

kv_events_client::kv_events_client(node& target, const gateway_config& config, asio::io_context& ioc, router& routes,
                                   gateway_metrics& metrics)
    : node_(target),
      connect_timeout_(config.upstream.connect_timeout),
      backoff_max_(config.routing.kv_events_backoff_max),
      health_interval_(config.health.interval),
      ioc_(ioc),
      router_(routes),
      metrics_(metrics),
      timer_(ioc),
      stream_(ioc) {}

void kv_events_client::start() {
  if (node_.kind() != node_kind::laneway) return;
  asio::co_spawn(ioc_, run(), asio::detached);
}

void kv_events_client::stop() {
  stopped_ = true;
  asio::post(ioc_, [this] {
    timer_.cancel();
    close_stream();
  });
}

void kv_events_client::node_ejected() {
  asio::post(ioc_, [this] {
    router_.drop(node_.routing_id());
    close_stream();
  });
}

void kv_events_client::close_stream() {
  boost::beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
  buffer_.clear();
}

asio::awaitable<bool> kv_events_client::follow() {
  close_stream();
  auto c = co_await connect_node(stream_, node_.config().url, node_.tls(), connect_timeout_);
  if (!c) co_return false;
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, node_.config().url.prefix + "/v1/kv/events", 11};
  req.set(bhttp::field::host, node_.config().url.host_header());
  req.set(bhttp::field::accept, "text/event-stream");
  req.set(bhttp::field::user_agent, "laneway-gateway");
  stream_.expires_after(connect_timeout_ * 5);
  auto [wec, wn] = co_await bhttp::async_write(stream_, req, use_tuple);
  if (wec) co_return false;
  bhttp::response_parser<bhttp::buffer_body> p;
  p.body_limit(boost::none);
  auto [hec, hn] = co_await bhttp::async_read_header(stream_, buffer_, p, use_tuple);
  if (hec || p.get().result_int() != 200) co_return false;

  bool synced = false;
  std::string pending;
  char piece[64 * 1024];
  while (!stopped_ && !p.is_done()) {
    p.get().body().data = piece;
    p.get().body().size = sizeof piece;
    stream_.expires_after(idle_timeout);
    auto [ec, n] = co_await bhttp::async_read_some(stream_, buffer_, p, use_tuple);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) break;
    pending.append(piece, sizeof piece - p.get().body().size);
    if (pending.size() > max_event_bytes) break;
    for (const auto& ev : take_sse_events(pending)) {
      auto r = apply_kv_event(ev, router_, node_.routing_id());
      metrics_.kv_event(node_.name(), r == kv_apply::snapshot ? "snapshot"
                                      : r == kv_apply::batch  ? "batch"
                                      : r == kv_apply::stale  ? "stale"
                                      : r == kv_apply::gap    ? "gap"
                                      : r == kv_apply::bad    ? "bad"
                                                              : "other");
      if (r == kv_apply::snapshot && !synced) {
        synced = true;
        http::log_event(http::log_level::info, "kv events synced",
                        {{"node", node_.name()}, {"blocks", router_.indexed_blocks(node_.routing_id())}});
      }
      if (r == kv_apply::gap || r == kv_apply::bad) co_return synced;  // resync from a fresh snapshot
    }
    metrics_.index_blocks(node_.name(), router_.indexed_blocks(node_.routing_id()));
  }
  co_return synced;
}

asio::awaitable<void> kv_events_client::run() {
  millis backoff{100};
  while (!stopped_) {
    if (node_.healthy()) {
      bool synced = co_await follow();
      close_stream();
      router_.drop(node_.routing_id());
      metrics_.index_blocks(node_.name(), 0);
      if (stopped_) break;
      if (synced) {
        http::log_event(http::log_level::warn, "kv events stream lost; index entries dropped", {{"node", node_.name()}});
        backoff = millis(100);
      } else {
        backoff = std::min(backoff * 2, backoff_max_);
      }
      timer_.expires_after(backoff);
    } else {
      timer_.expires_after(health_interval_);
    }
    co_await timer_.async_wait(use_tuple);
  }
  close_stream();
}

}  // namespace laneway::gateway
