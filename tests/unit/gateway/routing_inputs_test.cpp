// What routing reads from a request and a response: body fields, the prompt as bytes, the
// usage tail of plain and streamed answers, SSE framing and KV events applied to the router.
#include <doctest/doctest.h>

#include "gateway/kv_events_client.hpp"
#include "gateway/request_body.hpp"
#include "gateway/router.hpp"
#include "gateway/usage_scanner.hpp"

using namespace laneway::gateway;
namespace routing = laneway::routing;

TEST_SUITE("gateway") {
  TEST_CASE("routing fields of chat and completion bodies") {
    auto chat = read_inference_fields(
        R"({"model":"m","stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":64,"user":"u1",
            "messages":[{"role":"developer","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi "},
            {"type":"image_url","image_url":{}},{"type":"text","text":"there"}]}]})");
    REQUIRE(chat);
    CHECK(chat->stream);
    CHECK(chat->include_usage);
    CHECK(chat->max_tokens == 64);
    CHECK(chat->user == "u1");
    REQUIRE(chat->messages.size() == 2);
    CHECK(chat->messages[0].role == "system");
    CHECK(chat->messages[1].content == "hi there");
    CHECK(chat->prompt_bytes() == "system\nbe brief\nuser\nhi there\n");

    auto text = read_inference_fields(R"({"model":"m","prompt":["once upon"],"max_tokens":5})");
    REQUIRE(text);
    CHECK(text->prompt_text == "once upon");
    CHECK(text->prompt_bytes() == "once upon");
    auto ids = read_inference_fields(R"({"model":"m","prompt":[1,2,3]})");
    REQUIRE(ids);
    CHECK(ids->prompt_tokens == std::vector<std::int32_t>{1, 2, 3});
    auto batch = read_inference_fields(R"({"model":"m","prompt":["a","b"]})");
    REQUIRE(batch);  // a batch is forwarded, routed without its content
    CHECK(!batch->prompt_text);
    CHECK(batch->prompt_tokens.empty());
  }

  TEST_CASE("usage from the tail of a plain answer and of a stream") {
    usage_scanner plain;
    std::string body = R"({"id":"c1","choices":[{"message":{"content":"a \"usage\": {"}}],)"
                       R"("usage":{"prompt_tokens":40,"completion_tokens":5,"total_tokens":45,"prompt_tokens_details":{"cached_tokens":32}}})";
    for (std::size_t i = 0; i < body.size(); i += 7) plain.feed(std::string_view(body).substr(i, 7));
    auto u = plain.result();
    REQUIRE(u);
    CHECK(u->prompt_tokens == 40);
    CHECK(u->completion_tokens == 5);
    CHECK(u->cached_tokens == 32);

    usage_scanner stream(256);
    stream.feed("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n");
    for (int i = 0; i < 100; ++i) stream.feed("data: {\"choices\":[{\"delta\":{\"content\":\"more text\"}}]}\n\n");
    stream.feed("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,"
                "\"prompt_tokens_details\":{\"cached_tokens\":0}}}\n\ndata: [DONE]\n\n");
    auto s = stream.result();
    REQUIRE(s);
    CHECK(s->prompt_tokens == 9);
    CHECK(s->cached_tokens == 0);

    usage_scanner none;
    none.feed("data: {\"choices\":[]}\n\ndata: [DONE]\n\n");
    CHECK_FALSE(none.result());
  }

  TEST_CASE("SSE framing: events split across reads, comments, multi-line data") {
    std::string buf = ": keep-alive\n\nevent: snapshot\ndata: {\"a\":1}\n\nevent: kv\ndata: x\ndata: y\n\nevent: kv\nda";
    auto events = take_sse_events(buf);
    REQUIRE(events.size() == 2);
    CHECK(events[0].event == "snapshot");
    CHECK(events[0].data == "{\"a\":1}");
    CHECK(events[1].data == "x\ny");
    CHECK(buf == "event: kv\nda");
    buf += "ta: z\r\n\r\n";
    CHECK(take_sse_events(buf).empty());  // "\r\n\r\n" alone is not "\n\n"
    buf = "data: plain\n\n";
    auto m = take_sse_events(buf);
    REQUIRE(m.size() == 1);
    CHECK(m[0].event == "message");
  }

  TEST_CASE("KV events feed the precise index: snapshot, batches, gap, drop") {
    routing_config rc;
    rc.policy = "kv_aware";
    router routes(rc);
    auto id = routes.id_of("w0");
    CHECK(routes.id_of("w0") == id);
    CHECK(routes.id_of("w1") != id);
    auto ev = [](std::string e, std::string d) { return sse_event{std::move(e), std::move(d)}; };
    CHECK(apply_kv_event(ev("snapshot", R"({"seq":3,"model":"m","hashes":["0000000000000001","00000000000000ff"]})"), routes, id) ==
          kv_apply::snapshot);
    CHECK(routes.kv_synced(id));
    CHECK(routes.indexed_blocks(id) == 2);
    CHECK(apply_kv_event(ev("kv", R"({"seq":4,"stored":["0000000000000002"],"removed":["0000000000000001"]})"), routes, id) ==
          kv_apply::batch);
    CHECK(routes.indexed_blocks(id) == 2);
    CHECK(apply_kv_event(ev("kv", R"({"seq":4,"stored":[],"removed":[]})"), routes, id) == kv_apply::stale);
    CHECK(apply_kv_event(ev("kv", R"({"seq":9,"stored":[],"removed":[]})"), routes, id) == kv_apply::gap);
    CHECK(apply_kv_event(ev("kv", R"({"seq":5,"stored":["zz"]})"), routes, id) == kv_apply::bad);
    CHECK(apply_kv_event(ev("message", "{}"), routes, id) == kv_apply::ignored);

    // The index decides: a prompt whose first blocks node w0 holds goes there.
    std::vector<std::uint64_t> prompt{0x2, 0xff};  // leading block 0x2 held, then 0xff
    std::vector<routing::candidate> cands(2);
    cands[0].node_index = 0;
    cands[0].name = "w0";
    cands[1].node_index = 1;
    cands[1].name = "w1";
    std::vector<routing::node_id> ids{id, routes.id_of("w1")};
    std::vector<candidate_prompt> prompts{{&prompt, true, 16}, {&prompt, true, 16}};
    routing::route_request req;
    req.model = "m";
    req.prompt_tokens = 40;
    req.prompt_blocks = 2;
    auto d = routes.decide(cands, ids, prompts, req);
    REQUIRE(d.index);
    CHECK(*d.index == 0);
    CHECK(d.matched_blocks == 2);
    CHECK(d.matched_tokens == 32);

    routes.drop(id);
    CHECK_FALSE(routes.kv_synced(id));
    CHECK(routes.indexed_blocks(id) == 0);
  }
}

TEST_SUITE("gateway") {
  TEST_CASE("router: KV reservations from load reports and sends, pending prefill, approximate blocks") {
    routing_config rc;
    rc.policy = "least_loaded";
    router routes(rc);
    auto id = routes.id_of("n");
    node_report report;
    report.at = std::chrono::steady_clock::now();
    report.kv_blocks_total = 10;
    report.block_size = 16;  // 160 tokens of KV
    routes.on_report(id, report);

    std::vector<routing::node_id> ids{id};
    std::vector<std::uint64_t> blocks{1, 2, 3};
    std::vector<candidate_prompt> prompts{{&blocks, false, 16}};
    routing::route_request req;
    req.model = "m";
    req.prompt_tokens = 48;
    req.context_budget_tokens = 100;
    auto decide = [&] {
      std::vector<routing::candidate> cands(1);
      cands[0].name = "n";
      auto d = routes.decide(cands, ids, prompts, req);
      return std::make_pair(d, cands[0]);
    };
    auto [d1, c1] = decide();
    REQUIRE(d1.index);
    CHECK(c1.kv.capacity_tokens == 160);
    CHECK(c1.matched_blocks == 0);

    routes.on_sent(id, prompts[0], 48, 100);
    auto [d2, c2] = decide();
    CHECK_FALSE(d2.index);  // 100 reserved + 100 > 160: the node is at its KV contract
    CHECK(c2.kv.reserved_tokens == 100);
    CHECK(c2.pending_prefill_tokens == 48);
    CHECK(c2.matched_blocks == 3);  // the approximate index remembers what was sent there
    CHECK(c2.matched_tokens == 48);

    routes.on_first_byte(id, 48);
    routes.on_done(id, prompts[0], 100);
    auto [d3, c3] = decide();
    REQUIRE(d3.index);
    CHECK(c3.pending_prefill_tokens == 0);
    CHECK(c3.kv.reserved_tokens == 0);

    routes.drop(id);
    auto [d4, c4] = decide();
    CHECK(c4.matched_blocks == 0);
  }

  TEST_CASE("router: a precise node counts a sent prompt's blocks as held until the request ends") {
    routing_config rc;
    rc.policy = "prefix_only";
    router routes(rc);
    const std::vector<routing::node_id> ids{routes.id_of("w0"), routes.id_of("w1")};
    for (auto id : ids) routes.kv_snapshot(id, 0, {});
    std::vector<std::uint64_t> blocks{0x11, 0x22, 0x33};
    std::vector<candidate_prompt> prompts{{&blocks, true, 16}, {&blocks, true, 16}};
    routing::route_request req;
    req.model = "m";
    req.prompt_tokens = 50;
    req.prompt_blocks = 3;
    auto decide = [&] {
      std::vector<routing::candidate> cands(2);
      cands[0].node_index = 0;
      cands[0].name = "w0";
      cands[1].node_index = 1;
      cands[1].name = "w1";
      cands[1].in_flight = 1;  // w1 less attractive by load: only a held prefix sends the request there
      routes.decide(cands, ids, prompts, req);
      return std::make_pair(cands[0].matched_blocks, cands[1].matched_blocks);
    };
    CHECK(decide() == std::make_pair(std::size_t{0}, std::size_t{0}));
    // The first request of a burst goes to w1: the next ones follow it while it is still in prefill.
    routes.on_sent(ids[1], prompts[1], 50, 0);
    CHECK(decide() == std::make_pair(std::size_t{0}, std::size_t{3}));
    routes.on_sent(ids[1], prompts[1], 2, 0);
    routes.on_first_byte(ids[1], 50);  // a stream's head comes before its prefill: still held
    CHECK(decide() == std::make_pair(std::size_t{0}, std::size_t{3}));
    routes.on_done(ids[1], prompts[1], 0);
    CHECK(decide() == std::make_pair(std::size_t{0}, std::size_t{3}));  // the other is still running
    routes.on_first_byte(ids[1], 2);
    routes.on_done(ids[1], prompts[1], 0);  // answered or failed, the same
    CHECK(decide() == std::make_pair(std::size_t{0}, std::size_t{0}));
    // The worker's events then say what it really holds.
    const std::uint64_t stored[] = {0x11, 0x22};
    CHECK(routes.kv_batch(ids[1], 1, stored, {}) == routing::batch_result::applied);
    CHECK(decide() == std::make_pair(std::size_t{0}, std::size_t{2}));
  }

  TEST_CASE("node reports become routing loads; unknown stays unknown") {
    node_report r;
    auto empty = to_node_load(r);
    CHECK_FALSE(empty.running);
    CHECK_FALSE(empty.kv_blocks_total);
    CHECK_FALSE(empty.prefill_tokens_per_s);
    r.running = 2;
    r.waiting = 0;
    r.max_seqs = 8;
    r.kv_blocks_total = 100;
    r.kv_blocks_free = 50;
    r.block_size = 16;
    r.prefill_tokens_per_s = 900;
    auto l = to_node_load(r);
    CHECK(l.running == 2);
    CHECK(l.waiting == 0);
    CHECK(l.max_seqs == 8);
    CHECK(l.block_size == 16);
    CHECK(l.prefill_tokens_per_s == doctest::Approx(900));
  }
}
