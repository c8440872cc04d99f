// An inference request through its phases (see proxy.hpp): fields → lane → prompt plan →
// admission → choose and forward (with retries) → finish (admission, router, usage) → log.
// Each phase is a function of its own; handle_inference only strings them together.
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "gateway/http/headers.hpp"
#include "gateway/http/log.hpp"
#include "gateway/http/responses.hpp"
#include "gateway/http/tls_context.hpp"
#include "gateway/proxy.hpp"
#include "gateway/relay.hpp"
#include "gateway/usage_scanner.hpp"
#include "routing/prefix_index.hpp"
#include "routing/ttft.hpp"
#include <nlohmann/json.hpp>

namespace laneway::gateway {

namespace {

using steady = std::chrono::steady_clock;
constexpr std::size_t byte_block_bytes = 64;      // byte blocks for nodes without a known tokenizer
constexpr std::int64_t bytes_per_token = 4;       // the estimate when a prompt was not tokenized

double ms_since(steady::time_point t) { return std::chrono::duration<double, std::milli>(steady::now() - t).count(); }

// What the request carries from phase to phase, and what its log line says.
struct inference_context {
  std::shared_ptr<const snapshot> snap;
  inference_fields fields;
  key_grant key;
  std::string lane;
  std::int64_t context_budget = 0;
  millis queue_timeout{30'000};  // the lane's: also bounds a wait for a node's KV contract
  // Prompt plan: hash lists (one per tokenizer and block size, plus byte blocks) and each
  // node's view of them, by the node's position in snap->nodes.
  std::vector<std::vector<std::uint64_t>> hash_lists;
  std::vector<candidate_prompt> node_prompts;
  std::int64_t prompt_tokens = 0;
  bool tokenized = false;
  admission_gate::pass pass;
  bool admitted = false;
  // Outcome, for the log and metrics.
  std::string node;
  bool upstream_tls = false;  // the node hop was TLS (a https node)
  unsigned status = 0;
  int attempts = 0;
  attempt_stats stats;
  std::string error;
  routing::route_decision decision;
  std::string reason = "none";
  std::optional<usage_info> usage;
};

// Phase: prompt plan. Laneway nodes whose tokenizer is known get the worker's exact block hashes
// (one list per seed and block size, shared by those nodes); the others share byte blocks.
void plan_prompt(inference_context& c, tokenizer_cache& tokenizers) {
  const auto& nodes = c.snap->nodes;
  c.node_prompts.assign(nodes.size(), {});
  c.hash_lists.reserve(nodes.size() + 1);
  struct group {
    std::uint64_t seed;
    std::size_t block_size;
    std::size_t list;
  };
  std::vector<group> groups;
  std::optional<std::size_t> bytes_list;
  prompt_tokens tokens;
  std::optional<std::uint64_t> tokenized_with;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto& n = *nodes[i];
    auto r = n.report();
    if (n.kind() == node_kind::laneway && r.hash_seed && r.block_size > 0 && tokenizers.has(*r.hash_seed)) {
      auto g = std::find_if(groups.begin(), groups.end(),
                            [&](const group& x) { return x.seed == *r.hash_seed && x.block_size == r.block_size; });
      if (g == groups.end()) {
        if (tokenized_with != r.hash_seed && tokenizers.tokenize(*r.hash_seed, c.fields, tokens)) tokenized_with = r.hash_seed;
        if (tokenized_with != r.hash_seed) continue;
        c.hash_lists.push_back(cacheable_block_hashes(tokens, *r.hash_seed, r.block_size));
        groups.push_back({*r.hash_seed, r.block_size, c.hash_lists.size() - 1});
        g = groups.end() - 1;
        c.prompt_tokens = static_cast<std::int64_t>(tokens.ids.size());
        c.tokenized = true;
      }
      c.node_prompts[i] = {&c.hash_lists[g->list], true, static_cast<std::int64_t>(r.block_size)};
      continue;
    }
    if (!bytes_list) {
      c.hash_lists.push_back(routing::byte_block_hashes(c.fields.prompt_bytes(), routing::model_seed(c.fields.model),
                                                        byte_block_bytes));
      bytes_list = c.hash_lists.size() - 1;
    }
    c.node_prompts[i] = {&c.hash_lists[*bytes_list], false, static_cast<std::int64_t>(byte_block_bytes) / bytes_per_token};
  }
  if (!c.tokenized) c.prompt_tokens = static_cast<std::int64_t>(c.fields.prompt_size()) / bytes_per_token;
}

std::int64_t estimated_tokens(const inference_context& c) {
  std::int64_t out = c.fields.max_tokens >= 0 ? c.fields.max_tokens
                                              : static_cast<std::int64_t>(c.snap->config->routing.mean_output_tokens);
  return c.prompt_tokens + out;
}

// Phase: admission through the lane (may wait in its queue). While it waits, the client socket
// is watched: a client that closes its connection leaves the queue at once (`client_gone`).
boost::asio::awaitable<std::optional<http::error>> admit(inference_context& c, http::exchange& ex,
                                                         gateway_metrics& metrics, bool& client_gone) {
  routing::admission_request req{c.lane, c.key.tenant, estimated_tokens(c)};
  const auto started = steady::now();
  // Shared with the socket wait's handler, which may run after admit returned: it touches the
  // socket only while `watching` (all of this runs on the request's I/O thread).
  struct watch_state {
    bool watching = false;
    bool gone = false;
  };
  auto watch = std::make_shared<watch_state>();
  auto on_queued = [&, watch](routing::ticket id) {
    metrics.admission(c.lane, "queued");
    watch->watching = true;
    auto& socket = ex.stream.socket();
    socket.async_wait(boost::asio::ip::tcp::socket::wait_read,
                      [gate = c.snap->gate, id, watch, &socket](const boost::system::error_code& ec) {
                        if (!watch->watching || ec == boost::asio::error::operation_aborted) return;
                        boost::system::error_code aec;
                        if (!ec && socket.available(aec) > 0 && !aec) return;  // pipelined bytes: not a close
                        watch->gone = true;
                        gate->cancel(id);
                      });
  };
  auto got = co_await c.snap->gate->admit(req, on_queued);
  if (watch->watching) {
    watch->watching = false;
    boost::system::error_code ignored;
    ex.stream.socket().cancel(ignored);
  }
  if (watch->gone && !got) {
    client_gone = true;
    c.pass.queue_wait_ms = ms_since(started);
    metrics.admission(c.lane, "client_disconnect");
    co_return got.err();
  }
  if (!got) {
    c.pass.queue_wait_ms = ms_since(started);  // a queue timeout waited that long
    metrics.admission(c.lane, got.err().code());
    co_return got.err();
  }
  c.pass = *got;
  c.admitted = true;
  metrics.admission(c.lane, "admitted");
  metrics.lane_in_flight(c.lane, 1);
  metrics.queue_wait(c.lane, c.pass.queue_wait_ms / 1000.0);
  co_return std::nullopt;
}

// Phase: the candidates for the next attempt (nodes serving the model, not tried yet), ranked by
// the policy. `any_serves` tells a model nobody serves (404) from one whose nodes are all down.
std::optional<std::size_t> choose(inference_context& c, router& routes, const std::vector<node*>& tried,
                                  std::size_t& n_candidates, bool& any_serves, std::string_view session,
                                  std::string_view ex_request_id) {
  std::vector<routing::candidate> candidates;
  std::vector<routing::node_id> ids;
  std::vector<candidate_prompt> prompts;
  const auto& nodes = c.snap->nodes;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    auto& n = *nodes[i];
    if (!n.serves(c.fields.model)) continue;
    any_serves = true;
    if (std::find(tried.begin(), tried.end(), &n) != tried.end()) continue;
    routing::candidate cand;
    cand.node_index = i;
    cand.name = n.name();
    cand.in_flight = n.in_flight();
    cand.routable = n.routable();
    cand.circuit = n.circuit();  // half-open: routing/ sends it its one trial request
    cand.load = to_node_load(n.report());
    candidates.push_back(cand);
    ids.push_back(n.routing_id());
    prompts.push_back(c.node_prompts[i]);
  }
  n_candidates = static_cast<std::size_t>(std::count_if(candidates.begin(), candidates.end(),
                                                        [](const auto& x) { return x.routable; }));
  if (candidates.empty()) return std::nullopt;
  routing::route_request req;
  req.model = c.fields.model;
  req.prompt_tokens = c.prompt_tokens;
  req.prompt_blocks = prompts.front().hashes ? prompts.front().hashes->size() : 0;
  req.context_budget_tokens = c.context_budget;
  req.session = session;
  c.decision = routes.decide(candidates, ids, prompts, req);
  c.reason = std::string(routing::to_string(c.decision.reason));
  if (http::log_enabled(http::log_level::debug)) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& x : candidates) {
      list.push_back({{"node", x.name}, {"routable", x.routable}, {"in_flight", x.in_flight},
                      {"load", routing::effective_load(x)}, {"prefill_tokens_per_s", x.prefill_tokens_per_s},
                      {"pending_prefill_tokens", x.pending_prefill_tokens}, {"matched_blocks", x.matched_blocks},
                      {"ttft_ms", routing::estimate_ttft(x, req, routing::ttft_model{}).total_s() * 1000.0}});
    }
    http::log_event(http::log_level::debug, "route candidates",
                    {{"request_id", ex_request_id}, {"reason", c.reason}, {"prompt_tokens", c.prompt_tokens}, {"candidates", list}});
  }
  if (!c.decision.index) return std::nullopt;
  return candidates[*c.decision.index].node_index;
}

// Phase: the body's fields, the key's grant (checked in proxy::handle) and the lane.
std::optional<http::error> read_request(const http::exchange& ex, inference_context& c, const std::string& target) {
  std::optional<http::error> failure;
  auto fields = read_inference_fields(ex.req.body());
  if (!fields) failure = fields.err();
  else c.fields = std::move(*fields);
  if (auto key = authenticate(ex, c.snap->keys)) c.key = *key;
  if (!failure) {
    lane_request lr{c.snap->keys.required() ? &c.key : nullptr, ex.req["X-Lane"], c.fields.model,
                    std::string_view(target).substr(0, target.find('?'))};
    auto lane = c.snap->lanes.classify(lr);
    if (!lane) failure = lane.err();
    else {
      c.lane = c.snap->lanes.lanes()[*lane].name;
      c.context_budget = static_cast<std::int64_t>(c.snap->lanes.lanes()[*lane].context_budget);
      c.queue_timeout = c.snap->lanes.lanes()[*lane].queue_timeout;
    }
  }
  if (c.lane.empty()) c.lane = c.snap->lanes.lanes().front().name;
  return failure;
}

// Phases: choose a node, forward; another node only while nothing reached the client. The
// router learns what was sent where (pending prefill, KV reservation, approximate blocks).
boost::asio::awaitable<std::optional<http::error>> forward_phase(http::exchange& ex, inference_context& c, runtime& state,
                                                                 gateway_metrics& metrics, upstream_request& up,
                                                                 const std::string& target, const std::string& session,
                                                                 usage_scanner& usage) {
  std::vector<node*> tried;
  const auto& config = *c.snap->config;
  const int max_attempts = 1 + config.upstream.retries;
  std::optional<http::error> failure;
  const auto contract_deadline = steady::now() + c.queue_timeout;
  boost::asio::steady_timer contract_timer(co_await boost::asio::this_coro::executor);
  bool waited_for_contract = false;
  for (bool keep_routing = true; keep_routing;) {
    bool any_serves = false;
    std::size_t n_routable = 0;
    auto pick = choose(c, state.routes(), tried, n_routable, any_serves, session, ex.request_id);
    metrics.decision(state.routes().policy_name(), c.reason);
    if (!pick && tried.empty() && n_routable > 0 && steady::now() < contract_deadline) {
      // Every routable node is at its KV contract: wait for one to finish a request (bounded by
      // the lane's queue_timeout) rather than overfill a node.
      if (!waited_for_contract) metrics.admission(c.lane, "kv_contract_wait");
      waited_for_contract = true;
      contract_timer.expires_after(std::chrono::milliseconds(20));
      co_await contract_timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      continue;
    }
    if (!pick) {
      if (tried.empty() && n_routable > 0) {
        failure = http::make_error(http::error_kind::queue_timeout, "every node serving model '" + c.fields.model +
                                                                        "' stayed at its KV contract for the lane's queue_timeout");
        failure->retry_after_s = 1;
      } else if (tried.empty()) {
        failure = !any_serves ? http::make_error(http::error_kind::model_not_found, "model '" + c.fields.model + "' is not served by any node", "model")
                              : http::make_error(http::error_kind::no_healthy_node, "no healthy node serves model '" + c.fields.model + "'");
      }
      break;  // after failed attempts, `failure` holds the last attempt's error
    }
    node& chosen = *c.snap->nodes[*pick];
    const candidate_prompt& prompt = c.node_prompts[*pick];
    tried.push_back(&chosen);
    ++c.attempts;
    c.node = chosen.name();
    c.upstream_tls = chosen.tls() != nullptr;
    up.target(chosen.config().url.prefix + target);

    const std::int64_t uncached = std::max<std::int64_t>(0, c.prompt_tokens - c.decision.matched_tokens);
    bool head_seen = false;
    attempt_context ctx{config.upstream, metrics, c.attempts < max_attempts && n_routable > 1, &usage,
                        [&] {
                          head_seen = true;
                          state.routes().on_first_byte(chosen.routing_id(), uncached);
                        }};
    c.stats = {};
    usage = usage_scanner{};
    state.routes().on_sent(chosen.routing_id(), prompt, uncached, c.context_budget);
    if (!prompt.precise && prompt.hashes && !prompt.hashes->empty())
      metrics.index_blocks(chosen.name(), state.routes().indexed_blocks(chosen.routing_id()));
    chosen.add_in_flight(1);
    auto result = co_await forward_once(ex, chosen, up, ctx, c.stats);
    chosen.add_in_flight(-1);
    if (!head_seen) state.routes().on_first_byte(chosen.routing_id(), uncached);
    state.routes().on_done(chosen.routing_id(), prompt, c.context_budget);

    if (result.end == attempt_end::relayed) {
      failure.reset();
      c.status = c.stats.status;
      if (result.client_gone) {
        metrics.client_disconnect();
        c.error = "client_disconnect";
      } else if (result.err) {
        c.error = result.err->code();
      }
      break;
    }
    failure = result.err;
    keep_routing = result.end == attempt_end::retry;
    if (keep_routing) metrics.retry(result.err ? result.err->code() : "unknown");
  }

  co_return failure;
}

void write_access_log(const http::exchange& ex, const std::string& target, const inference_context& c) {
  if (!http::log_enabled(http::log_level::info)) return;
  const bool cached_known = c.usage && c.usage->cached_tokens >= 0;
  http::line_builder(http::log_level::info)
      .str("msg", "request")
      .str("hop", "gateway")
      .boolean("client_tls", ex.stream.is_tls())
      .boolean("upstream_tls", c.upstream_tls)
      .boolean("upstream_tls_resumed", c.stats.tls_resumed)
      .str("request_id", ex.request_id)
      .str("lane", c.lane)
      .str_or_null("tenant", c.key.tenant)
      .str("method", ex.req.method_string())
      .str("path", target)
      .str_or_null("node", c.node)
      .str("model", c.fields.model)
      .num("status", std::uint64_t{c.status})
      .num("bytes_in", std::uint64_t{ex.bytes_in})
      .num("bytes_out", std::uint64_t{c.stats.bytes_out})
      .num("queue_wait_ms", c.pass.queue_wait_ms)
      .str("route_reason", c.reason)
      .num("prompt_tokens", static_cast<double>(c.prompt_tokens))
      .num("matched_blocks", std::uint64_t{c.decision.matched_blocks})
      .num("predicted_cached_tokens", static_cast<double>(c.decision.matched_tokens))
      .num_or_null("cached_tokens", cached_known ? static_cast<double>(c.usage->cached_tokens) : 0, cached_known)
      .num_or_null("predicted_ttft_ms", c.decision.predicted_ttft_s * 1000.0, c.decision.predicted_ttft_s >= 0)
      .num("upstream_connect_ms", c.stats.connect_ms)
      .num_or_null("ttfb_ms", c.stats.ttfb_ms, c.stats.ttfb_ms >= 0)
      .num("total_ms", ms_since(ex.started))
      .boolean("stream", c.fields.stream)
      .num("chunks", std::uint64_t{c.stats.chunks})
      .boolean("reused", c.stats.reused)
      .num("attempts", std::uint64_t(c.attempts))
      .str_or_null("error", c.error)
      .write();
}

}  // namespace

boost::asio::awaitable<void> proxy::handle_inference(http::exchange& ex, route r) {
  inference_context c;
  c.snap = state_.current();
  const auto& config = *c.snap->config;
  const std::string target(ex.req.target());
  std::optional<http::error> failure;
  bool client_gone = false;  // left while queued: nothing to answer

  // Phase: the fields routing needs, the key (checked in handle()), the lane.
  failure = read_request(ex, c, target);

  // Phases: prompt plan, admission.
  if (!failure) {
    plan_prompt(c, state_.tokenizers());
    failure = co_await admit(c, ex, metrics_, client_gone);
  }

  // The request as the nodes get it: built once, Host and target set per attempt.
  upstream_request up{ex.req.method(), ex.req.target(), 11};
  http::copy_end_to_end_fields(ex.req.base(), up.base());
  up.set("X-Request-Id", ex.request_id);
  up.keep_alive(true);
  up.body() = std::move(ex.req.body());
  up.prepare_payload();
  std::string session;
  if (!config.routing.session_header.empty()) session = std::string(ex.req[config.routing.session_header]);
  if (session.empty()) session = c.fields.user;

  // Phases: choose a node, forward (with retries).
  usage_scanner usage;
  if (!failure) failure = co_await forward_phase(ex, c, state_, metrics_, up, target, session, usage);

  // Phase: finish — usage (predicted vs actual cached tokens, token bucket correction), admission.
  c.usage = usage.result();
  std::int64_t actual_tokens = -1;
  if (c.usage && c.usage->prompt_tokens >= 0 && c.usage->completion_tokens >= 0)
    actual_tokens = c.usage->prompt_tokens + c.usage->completion_tokens;
  if (c.usage && c.usage->cached_tokens >= 0 && !c.node.empty() && c.status == 200)
    metrics_.cached_tokens(c.node, c.decision.matched_tokens, c.usage->cached_tokens);
  if (c.admitted) {
    c.snap->gate->finish(c.pass.id, actual_tokens);
    metrics_.lane_in_flight(c.lane, -1);
  }

  if (client_gone) {
    metrics_.client_disconnect();
    ex.keep_alive = false;
    c.status = 499;  // nginx's "client closed request": nothing was answered
    c.error = "client_disconnect";
  } else if (failure) {
    c.status = failure->status();
    c.error = failure->code();
    co_await http::write_error(ex, *failure);
  }
  metrics_.request_done(to_string(r), c.status, ms_since(ex.started) / 1000.0);
  write_access_log(ex, target, c);
}

http::result<key_grant> authenticate(const http::exchange& ex, const key_table& keys) {
  if (!keys.required()) return key_grant{"", "anonymous", "", false};
  auto key = bearer_token(ex.req[boost::beast::http::field::authorization]);
  if (key.empty()) {
    // No key sent: a verified client certificate ([tls] client_certs) may stand for one.
    auto cert = http::verified_peer_certificate(ex.stream.native_tls());
    if (cert) {
      if (auto grant = keys.find_certificate(cert->sha256, cert->subject_cn)) return *grant;
      return http::make_error(http::error_kind::unauthorized, "The client certificate (SHA-256 " + cert->sha256 +
                                                                  ") is not mapped to an identity, and no API key was sent.");
    }
    return http::make_error(http::error_kind::unauthorized,
                            "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.");
  }
  if (auto grant = keys.find(key)) return *grant;
  return http::make_error(http::error_kind::unauthorized, "Incorrect API key provided.");
}

void write_rejected_log(const http::exchange& ex, const http::error& err) {
  if (!http::log_enabled(http::log_level::info)) return;
  http::line_builder(http::log_level::info)
      .str("msg", "request")
      .str("hop", "gateway")
      .boolean("client_tls", ex.stream.is_tls())
      .str("request_id", ex.request_id)
      .str("method", ex.req.method_string())
      .str("path", ex.req.target())
      .num("status", std::uint64_t{err.status()})
      .num("total_ms", ms_since(ex.started))
      .str("error", err.code())
      .write();
}

}  // namespace laneway::gateway
