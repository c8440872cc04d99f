// kv_aware and prefix_only: the TTFT estimate by hand, filters, prefix vs load trade-off, ties,
// the imbalance fallback, half-open nodes, stickiness; node_state's contract and rate helpers.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <vector>

#include "routing/policy.hpp"
#include "routing/ttft.hpp"

using namespace laneway::routing;
using namespace std::chrono_literals;

namespace {

// A node with a prefill rate of 1000 tokens/s, 8 slots, `in_flight` requests, `matched` tokens.
candidate node(std::size_t i, std::string_view name, int in_flight, std::int64_t matched, std::int64_t pending = 0) {
  candidate c;
  c.node_index = i;
  c.name = name;
  c.in_flight = in_flight;
  c.prefill_tokens_per_s = 1000;
  c.load.max_seqs = 8;
  c.load.decode_tokens_per_s = 100;
  c.matched_tokens = matched;
  c.matched_blocks = std::size_t(matched / 16);
  c.pending_prefill_tokens = pending;
  return c;
}

policy_config config_named(std::string name) {
  policy_config c;
  c.name = std::move(name);
  c.ttft.mean_output_tokens = 100;
  c.ttft.default_prefill_tokens_per_s = 1000;  // the prior matches node()'s rate
  return c;
}

}  // namespace

TEST_SUITE("routing") {
  TEST_CASE("the TTFT estimate by hand") {
    struct row {
      int in_flight;
      std::int64_t matched, pending;
      double queue_s, prefill_s;
    };
    // prompt 2000 tokens, rate 1000/s, 8 slots, decode 100 tokens/s, answers of 100 tokens
    const row table[] = {
        {0, 0, 0, 0.0, 2.0},         // cold and idle: the whole prompt
        {0, 1600, 0, 0.0, 0.4},      // 1600 cached: 400 to compute
        {3, 1600, 500, 0.5, 0.4},    // 500 tokens of other prompts ahead
        {8, 1600, 0, 1.0, 0.4},      // all 8 slots taken: 1 ahead × 100 tokens / 100 per s
        {10, 2400, 0, 3.0, 0.0},     // matched beyond the prompt: nothing uncached
    };
    ttft_model model{.default_prefill_tokens_per_s = 1, .default_decode_tokens_per_s = 1, .mean_output_tokens = 100};
    for (const auto& r : table) {
      CAPTURE(r.in_flight);
      CAPTURE(r.matched);
      auto e = estimate_ttft(node(0, "a", r.in_flight, r.matched, r.pending), {.model = "m", .prompt_tokens = 2000}, model);
      CHECK(e.queue_wait_s == doctest::Approx(r.queue_s));
      CHECK(e.prefill_s == doctest::Approx(r.prefill_s));
      CHECK(e.total_s() == doctest::Approx(r.queue_s + r.prefill_s));
    }
  }

  TEST_CASE("the estimate uses the largest of the default, the reported rate and the estimate") {
    candidate c;
    ttft_model model{.default_prefill_tokens_per_s = 500};
    route_request r{.model = "m", .prompt_tokens = 1000};
    CHECK(estimate_ttft(c, r, model).prefill_s == doctest::Approx(2.0));
    c.load.prefill_tokens_per_s = 2000;
    CHECK(estimate_ttft(c, r, model).prefill_s == doctest::Approx(0.5));
    c.prefill_tokens_per_s = 4000;
    CHECK(estimate_ttft(c, r, model).prefill_s == doctest::Approx(0.25));
  }

  TEST_CASE("throughput below the prior does not make a busy node look slower than a never-measured one") {
    // /load's prefill_tokens_per_s is recent throughput: ~436 tokens/s on a lightly loaded node
    // that could do far more, nothing at all on one that was idle.
    ttft_model model{.default_prefill_tokens_per_s = 2000};
    candidate busy = node(0, "busy", 1, 1000);
    busy.prefill_tokens_per_s = 436;
    candidate idle = node(1, "idle", 0, 0);
    idle.prefill_tokens_per_s = 0;
    const route_request r{.model = "m", .prompt_tokens = 2000, .prompt_blocks = 125};
    CHECK(estimate_ttft(busy, r, model).prefill_s == doctest::Approx(0.5));  // 1000 uncached at the prior
    CHECK(estimate_ttft(idle, r, model).prefill_s == doctest::Approx(1.0));
    busy.load.prefill_tokens_per_s = 300;
    CHECK(estimate_ttft(busy, r, model).prefill_s == doctest::Approx(0.5));
    busy.prefill_tokens_per_s = 4000;  // throughput above the prior proves the node faster
    CHECK(estimate_ttft(busy, r, model).prefill_s == doctest::Approx(0.25));
    // So the half-cached busy node wins the request.
    policy_config config;
    config.name = "kv_aware";
    busy.prefill_tokens_per_s = 436;
    std::vector<candidate> c = {idle, busy};
    CHECK(make_policy(config)->pick(c, r).index == std::size_t{1});
  }

  TEST_CASE("kv_aware chooses by estimated TTFT and says why") {
    struct row {
      const char* what;
      std::vector<candidate> nodes;
      std::size_t expected;
      route_reason reason;
    };
    const row table[] = {
        {"the node holding the prefix", {node(0, "a", 0, 0), node(1, "b", 1, 1600), node(2, "c", 0, 320)}, 1,
         route_reason::prefix},
        {"no prefix anywhere: least loaded", {node(0, "a", 2, 0), node(1, "b", 1, 0), node(2, "c", 3, 0)}, 1,
         route_reason::least_loaded},
        {"prefix node buried in queued prefill loses", {node(0, "a", 0, 0), node(1, "b", 4, 1600, 5000)}, 0,
         route_reason::least_loaded},
        {"prefix node with all slots taken loses to a partial match",
         {node(0, "a", 12, 1600), node(1, "b", 0, 800)}, 1, route_reason::prefix},
        {"ties within 5 % go to the lighter node", {node(0, "a", 5, 1600), node(1, "b", 1, 1600, 15)}, 1,
         route_reason::prefix},
    };
    for (const auto& r : table) {
      CAPTURE(r.what);
      auto p = make_policy(config_named("kv_aware"));
      auto d = p->pick(r.nodes, {.model = "m", .prompt_tokens = 2000, .prompt_blocks = 125});
      REQUIRE(d.index);
      CHECK(*d.index == r.expected);
      CHECK(d.reason == r.reason);
      CHECK(d.matched_tokens == r.nodes[r.expected].matched_tokens);
      CHECK(d.predicted_ttft_s == doctest::Approx(estimate_ttft(r.nodes[r.expected], {.model = "m", .prompt_tokens = 2000},
                                                                config_named("kv_aware").ttft).total_s()));
    }
  }

  TEST_CASE("every policy filters unhealthy nodes, nodes without the model and nodes at their KV contract") {
    for (const auto& name : policy_names()) {
      CAPTURE(name);
      auto p = make_policy(name);
      std::vector<candidate> c = {node(0, "down", 0, 1600), node(1, "other_model", 0, 1600), node(2, "full", 0, 1600),
                                  node(3, "ok", 9, 0)};
      c[0].routable = false;
      c[1].serves_model = false;
      c[2].kv = {.capacity_tokens = 8192, .reserved_tokens = 6000};
      route_request r{.model = "m", .prompt_tokens = 2000, .prompt_blocks = 125, .context_budget_tokens = 4096};
      for (int i = 0; i < 5; ++i) CHECK(p->pick(c, r).index == std::size_t{3});
      c[3].routable = false;
      auto none = p->pick(c, r);
      CHECK_FALSE(none.index);
      CHECK(none.reason == route_reason::none);
    }
  }

  TEST_CASE("a half-open node gets its one trial request, then traffic only as a last resort") {
    for (const auto& name : policy_names()) {
      CAPTURE(name);
      auto p = make_policy(name);
      // The closed node holds the whole prompt and is idle: every policy would choose it.
      std::vector<candidate> c = {node(0, "closed", 0, 2000), node(1, "trial", 0, 0)};
      c[1].circuit = circuit_state::half_open;
      const route_request r{.model = "m", .prompt_tokens = 2000, .prompt_blocks = 125};
      auto trial = p->pick(c, r);
      CHECK(trial.index == std::size_t{1});
      CHECK(trial.reason == route_reason::circuit_trial);
      c[1].in_flight = 1;  // the trial is under way: its outcome decides, nothing more goes there
      for (int i = 0; i < 3; ++i) CHECK(p->pick(c, r).index == std::size_t{0});
      c[0].routable = false;
      CHECK(p->pick(c, r).index == std::size_t{1});
      c[1].kv.capacity_tokens = 100;  // a trial respects the KV contract like any request
      c[1].kv.reserved_tokens = 100;
      c[1].in_flight = 0;
      CHECK_FALSE(p->pick(c, {.model = "m", .prompt_tokens = 2000, .context_budget_tokens = 50}).index);
    }
  }

  TEST_CASE("kv_aware leaves the nodes holding the prefix only when they are move_factor x slower") {
    // Prompt of 2000 tokens, 1600 cached on `home` (80 % of the blocks); `away` is idle: 2.0 s.
    // Greedy would move as soon as home's queue passed 400 tokens; the hysteresis waits for 2x.
    struct row {
      std::int64_t home_pending;
      std::size_t expected;  // 0 = home, 1 = away
    };
    const row table[] = {{0, 0}, {1000, 0}, {2000, 0}, {3600, 0}, {3700, 1}, {8000, 1}};
    for (const auto& r : table) {
      CAPTURE(r.home_pending);
      auto p = make_policy(config_named("kv_aware"));
      std::vector<candidate> c = {node(0, "home", 1, 1600, r.home_pending), node(1, "away", 0, 0)};
      auto d = p->pick(c, {.model = "m", .prompt_tokens = 2000, .prompt_blocks = 125});
      CHECK(d.index == r.expected);
      CHECK(d.reason == (r.expected == 0 ? route_reason::prefix : route_reason::least_loaded));
    }
    // A match of half the prompt or less is no home: the estimate alone decides.
    auto p = make_policy(config_named("kv_aware"));
    std::vector<candidate> c = {node(0, "half", 1, 992, 1500), node(1, "away", 0, 0)};  // 62 of 125 blocks
    CHECK(p->pick(c, {.model = "m", .prompt_tokens = 2000, .prompt_blocks = 125}).index == std::size_t{1});
    // With move_factor 1 the rule is the plain greedy estimate.
    auto config = config_named("kv_aware");
    config.move_factor = 1;
    p = make_policy(config);
    c = {node(0, "home", 1, 1600, 2000), node(1, "away", 0, 0)};
    CHECK(p->pick(c, {.model = "m", .prompt_tokens = 2000, .prompt_blocks = 125}).index == std::size_t{1});
  }

  TEST_CASE("badly imbalanced loads fall back to the least loaded (SGLang's 32 and 1.1)") {
    struct row {
      int busy, idle;
      bool fallback;
    };
    const row table[] = {{40, 5, true}, {37, 5, false}, {40, 37, false}, {100, 67, true}};
    for (const char* name : {"kv_aware", "prefix_only"}) {
      for (const auto& r : table) {
        CAPTURE(name);
        CAPTURE(r.busy);
        CAPTURE(r.idle);
        auto p = make_policy(config_named(name));
        // the busy node holds the whole prompt and has free slots, so only the guard moves the request
        std::vector<candidate> c = {node(0, "busy", r.busy, 2000), node(1, "idle", r.idle, 0)};
        c[0].load.max_seqs = c[1].load.max_seqs = 256;
        auto d = p->pick(c, {.model = "m", .prompt_tokens = 2000, .prompt_blocks = 125});
        CHECK(d.index == std::size_t(r.fallback ? 1 : 0));
        CHECK((d.reason == route_reason::imbalance_fallback) == r.fallback);
      }
    }
  }

  TEST_CASE("prefix_only follows a match covering more than half the prompt, else the least loaded") {
    struct row {
      std::size_t matched_blocks;
      std::size_t expected;
      route_reason reason;
    };
    const row table[] = {{100, 0, route_reason::prefix}, {62, 1, route_reason::least_loaded}, {0, 1, route_reason::least_loaded}};
    for (const auto& r : table) {
      CAPTURE(r.matched_blocks);
      auto p = make_policy("prefix_only");
      std::vector<candidate> c = {node(0, "a", 6, std::int64_t(r.matched_blocks) * 16), node(1, "b", 2, 0)};
      auto d = p->pick(c, {.model = "m", .prompt_tokens = 2000, .prompt_blocks = 125});
      CHECK(d.index == r.expected);
      CHECK(d.reason == r.reason);
    }
  }

  TEST_CASE("kv_aware stickiness keeps a session's node until it is much worse") {
    auto config = config_named("kv_aware");
    config.sticky_sessions = true;
    config.sticky_slack = 2.0;
    auto p = make_policy(config);
    std::vector<candidate> c = {node(0, "a", 0, 0), node(1, "b", 0, 0)};
    route_request r{.model = "m", .prompt_tokens = 1000, .session = "alice"};
    auto first = p->pick(c, r);
    REQUIRE(first.index);
    const std::size_t home = *first.index, away = 1 - home;
    c[home].pending_prefill_tokens = 500;  // 1.5 s vs 1.0 s: within the slack
    auto again = p->pick(c, r);
    CHECK(again.index == home);
    CHECK(again.reason == route_reason::sticky);
    c[home].pending_prefill_tokens = 1500;  // 2.5 s vs 1.0 s: moves, and the session follows
    auto moved = p->pick(c, r);
    CHECK(moved.index == away);
    c[home].pending_prefill_tokens = 0;
    c[away].pending_prefill_tokens = 500;
    CHECK(p->pick(c, r).index == away);
    CHECK(p->pick(c, {.model = "m", .prompt_tokens = 1000, .session = "bob"}).reason != route_reason::sticky);
  }

  TEST_CASE("least_loaded counts what the node reports, least_in_flight only the gateway's count") {
    std::vector<candidate> c = {node(0, "a", 1, 0), node(1, "b", 2, 0)};
    c[0].load.running = 6;
    c[0].load.waiting = 3;  // other clients keep node a busy
    CHECK(effective_load(c[0]) == 9);
    CHECK(make_policy("least_loaded")->pick(c, {.model = "m"}).index == std::size_t{1});
    CHECK(make_policy("least_in_flight")->pick(c, {.model = "m"}).index == std::size_t{0});
  }

  TEST_CASE("reason names are the metrics labels") {
    const std::map<route_reason, std::string_view> names = {
        {route_reason::prefix, "prefix"}, {route_reason::least_loaded, "least_loaded"},
        {route_reason::imbalance_fallback, "imbalance_fallback"}, {route_reason::sticky, "sticky"},
        {route_reason::circuit_trial, "circuit_trial"},
        {route_reason::round_robin, "round_robin"}, {route_reason::none, "none"}};
    for (const auto& [reason, name] : names) CHECK(to_string(reason) == name);
  }

  TEST_CASE("KV contract: capacity / budget, at least one, none when unknown") {
    struct row {
      std::optional<std::int64_t> capacity;
      std::int64_t budget;
      int cap;
    };
    const row table[] = {{65536, 8192, 8}, {65536, 10000, 6}, {4096, 8192, 1}, {std::nullopt, 8192, 0}, {65536, 0, 0}};
    for (const auto& r : table) CHECK(kv_contract_cap(r.capacity, r.budget) == r.cap);
    node_load load;
    CHECK_FALSE(kv_capacity_tokens(load));
    load.kv_blocks_total = 4096;
    load.block_size = 16;
    CHECK(kv_capacity_tokens(load) == 65536);
    kv_reservation kv{.capacity_tokens = 10000, .reserved_tokens = 0};
    CHECK(kv.admits(20000));  // an empty node always takes one
    kv.reserved_tokens = 6000;
    CHECK(kv.admits(4000));
    CHECK_FALSE(kv.admits(4001));
    CHECK(kv.admits(0));
  }

  TEST_CASE("rate_estimate keeps the decaying peak of the reported rates") {
    auto t = std::chrono::steady_clock::time_point{} + 1000s;
    rate_estimate r(100s);
    CHECK(r.tokens_per_s(t) == 0);
    r.on_report(1000, t);
    r.on_report(0, t + 1s);  // idle window: says nothing
    CHECK(r.tokens_per_s(t + 1s) == doctest::Approx(1000 * std::exp2(-0.01)));
    CHECK(r.tokens_per_s(t + 100s) == doctest::Approx(500));
    r.on_report(400, t + 100s);  // below the decayed peak: ignored
    CHECK(r.tokens_per_s(t + 100s) == doctest::Approx(500));
    r.on_report(800, t + 100s);
    CHECK(r.tokens_per_s(t + 100s) == doctest::Approx(800));
  }
}
