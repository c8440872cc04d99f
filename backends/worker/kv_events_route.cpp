// GET /v1/kv/events: the worker's KV-cache block events for a gateway's precise prefix index, as
// server-sent events. On connect: one `snapshot` event with every held block hash; then `kv`
// events, one per published batch (a scheduler step that stored or removed blocks), in sequence
// order. A consumer that fell behind the feed's bounded history gets a fresh `snapshot` (its
// `seq` says where the stream resumes). Hashes are 16 lowercase hex digits (64-bit values do
// not survive JSON numbers in every client). A comment line every 15 s keeps proxies from
// timing the stream out. Formats: docs/kv-cache.md.
//
//   event: snapshot
//   data: {"seq":12,"model":"m","block_size":16,"hash_seed":"…","hashes":["…",…]}
//
//   event: kv
//   data: {"seq":13,"stored":["…"],"removed":["…"]}
#include <nlohmann/json.hpp>

#include "backends/worker/openai_response.hpp"
#include "backends/worker/stream_io.hpp"
#include "backends/worker/worker_api.hpp"

namespace laneway::worker {

namespace {

using json = nlohmann::json;
using steady = std::chrono::steady_clock;

json hex_list(const std::vector<uint64_t>& hashes) {
  json out = json::array();
  for (uint64_t h : hashes) out.push_back(hex64(h));
  return out;
}

std::string snapshot_event(const engine::kv_snapshot& s, const worker_state& w) {
  json j = {{"seq", s.seq}, {"model", w.model_name}, {"block_size", w.sched.config().block_size},
            {"hash_seed", hex64(w.sched.config().hash_seed)},
            {"hashes", hex_list(s.hashes)}};
  return "event: snapshot\ndata: " + dump_json(j) + "\n\n";
}

std::string batch_event(const engine::kv_event_batch& b) {
  json j = {{"seq", b.seq}, {"stored", hex_list(b.stored)}, {"removed", hex_list(b.removed)}};
  return "event: kv\ndata: " + dump_json(j) + "\n\n";
}

}  // namespace

asio::awaitable<void> serve_kv_events(http::exchange& ex, worker_state& w) {
  sse_writer sse(ex);
  if (co_await sse.start()) co_return;
  w.metrics.http_answer("kv_events", 200);
  engine::kv_event_feed& feed = w.sched.kv_events();
  auto waiter = engine_waiter::create(co_await asio::this_coro::executor);
  waiter->watch_client(ex.stream.tcp());
  engine::kv_snapshot snap = feed.snapshot();
  uint64_t last = snap.seq;
  bool ok = !(co_await sse.write(snapshot_event(snap, w)));
  std::vector<engine::kv_event_batch> batches;
  auto last_write = steady::now();
  while (ok && !waiter->client_gone() && !ex.draining()) {
    batches.clear();
    std::string out;
    if (!feed.since(last, batches)) {
      snap = feed.snapshot();
      last = snap.seq;
      out = snapshot_event(snap, w);
    }
    for (const auto& b : batches) {
      out += batch_event(b);
      last = b.seq;
    }
    if (out.empty() && steady::now() - last_write > std::chrono::seconds(15)) out = ": keep-alive\n\n";
    if (!out.empty()) {
      ok = !(co_await sse.write(out));
      last_write = steady::now();
    }
    co_await waiter->wait(steady::now() + std::chrono::milliseconds(50));
  }
  waiter->stop_watching();
  if (ok && !waiter->client_gone()) co_await sse.finish();
  ex.keep_alive = false;
}

}  // namespace laneway::worker
