// The continuous-batching scheduler on a real tiny model: greedy outputs of concurrent requests
// equal the same requests run alone (and a plain greedy loop over a contiguous cache), with the
// prefix cache on or off; prefix hits reported; a tiny pool forces eviction and preemption without
// failing anyone; cancellation frees blocks; full channels pause a sequence without losing
// tokens; the KV events match what /load reports; refusals and stop(). Every wait has a deadline.
#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "backends/engine/block_hash.hpp"
#include "backends/engine/forward.hpp"
#include "backends/engine/kv_cache.hpp"
#include "backends/engine/kv_events.hpp"
#include "backends/engine/mkmodel.hpp"
#include "backends/engine/model.hpp"
#include "backends/engine/scheduler.hpp"
#include "tests/unit/engine/forward_test_util.hpp"

using namespace laneway::engine;
using namespace laneway::engine::test;
using std::chrono::seconds;

namespace {

constexpr auto deadline = seconds(60);

const model& tiny_model() {
  static const model m = model::open(data_path("models/stories260K.gguf"));
  return m;
}

std::vector<int32_t> prompt_for(int n, int salt) {
  std::vector<int32_t> out;
  uint32_t s = 4242u + static_cast<uint32_t>(salt) * 7919u;
  const auto nv = static_cast<uint32_t>(tiny_model().hparams().n_vocab);
  for (int i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    out.push_back(static_cast<int32_t>(3 + (s >> 8) % (nv - 3)));  // skip unk/bos/eos
  }
  return out;
}

generation_request greedy(std::vector<int32_t> prompt, int max_tokens) {
  generation_request r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.sampling.max_tokens = max_tokens;
  r.ignore_eos = true;
  return r;
}

scheduler_config small_config() {
  scheduler_config c;
  c.kv_blocks = 256;
  c.max_seqs = 8;
  c.step_tokens = 48;
  c.threads = 1;
  return c;
}

struct result {
  std::vector<int32_t> tokens;
  std::vector<steady_clock::time_point> at;
  std::optional<finish_info> info;
};

// Waits (bounded) for the stream's end, collecting its tokens; woken by the stream's notify.
class reader {
 public:
  explicit reader(std::shared_ptr<request_stream> s) : stream_(std::move(s)) {
    stream_->set_notify([this] {
      std::lock_guard lock(mutex_);
      ++events_;
      cv_.notify_all();
    });
  }
  ~reader() { stream_->set_notify(nullptr); }

  // Takes what is there now; true once finished.
  bool poll(result& r) {
    std::vector<stream_token> got;
    stream_->take(got, r.info);
    for (const stream_token& t : got) r.tokens.push_back(t.sample.token), r.at.push_back(t.at);
    return r.info.has_value();
  }
  // Until finished (or `n` tokens when n >= 0) or the deadline.
  result& wait(int n = -1) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    for (;;) {
      uint64_t seen;
      {
        std::lock_guard lock(mutex_);
        seen = events_;
      }
      if (poll(r_) || (n >= 0 && static_cast<int>(r_.tokens.size()) >= n)) return r_;
      std::unique_lock lock(mutex_);
      if (!cv_.wait_until(lock, until, [&] { return events_ != seen; })) {
        FAIL("stream did not finish within the deadline");
        return r_;
      }
    }
  }
  result& got() { return r_; }

 private:
  std::shared_ptr<request_stream> stream_;
  std::mutex mutex_;
  std::condition_variable cv_;
  uint64_t events_ = 0;
  result r_;
};

std::shared_ptr<request_stream> submit_ok(scheduler& s, generation_request r) {
  auto sub = s.submit(std::move(r));
  REQUIRE_MESSAGE(!sub.error, (sub.error ? sub.error->message : ""));
  return sub.stream;
}

// Polls `pred` until true or the deadline (the scheduler thread publishes after each step).
template <class Pred>
bool eventually(Pred pred) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::yield();
  }
  return pred();
}

// The plain greedy loop: whole prompt, then one argmax token per step, contiguous cache.
std::vector<int32_t> greedy_alone(const std::vector<int32_t>& prompt, int n) {
  const model& m = tiny_model();
  contiguous_kv_cache cache(kv_layout_for(m, laneway::cpu::dtype::f16), 1, static_cast<int32_t>(prompt.size()) + n);
  cpu_forward fwd(m, cache, 1);
  batch b;
  for (std::size_t i = 0; i < prompt.size(); ++i) b.add(prompt[i], static_cast<int32_t>(i), 0, i + 1 == prompt.size());
  std::vector<int32_t> out;
  auto logits = fwd.decode(b);
  for (int i = 0; i < n; ++i) {
    out.push_back(argmax(logits));
    b.clear();
    b.add(out.back(), static_cast<int32_t>(prompt.size()) + i, 0, true);
    if (i + 1 < n) logits = fwd.decode(b);
  }
  return out;
}

// Each request in a scheduler of its own (nothing shared, no prefix cache).
std::vector<std::vector<int32_t>> run_each_alone(const std::vector<generation_request>& reqs) {
  std::vector<std::vector<int32_t>> out;
  scheduler_config c = small_config();
  c.prefix_caching = false;
  for (const generation_request& r : reqs) {
    scheduler s(tiny_model(), c);
    reader rd(submit_ok(s, r));
    out.push_back(rd.wait().tokens);
  }
  return out;
}

std::vector<result> run_together(scheduler& s, const std::vector<generation_request>& reqs) {
  std::vector<std::unique_ptr<reader>> readers;
  for (const generation_request& r : reqs) readers.push_back(std::make_unique<reader>(submit_ok(s, r)));
  std::vector<result> out;
  for (auto& rd : readers) out.push_back(rd->wait());
  return out;
}

std::vector<generation_request> mixed_requests() {
  std::vector<generation_request> reqs;
  const int lengths[] = {5, 37, 64, 16, 90, 23};
  for (int i = 0; i < 6; ++i) reqs.push_back(greedy(prompt_for(lengths[i], i), 20 + 3 * i));
  return reqs;
}

}  // namespace

TEST_SUITE("engine") {
  TEST_CASE("scheduler: one request end to end equals a plain greedy loop") {
    scheduler s(tiny_model(), small_config());
    CHECK(s.backend_name() == "cpu");
    CHECK(s.config().hash_seed != 0);  // the tokenizer fingerprint
    const auto prompt = prompt_for(30, 1);
    reader rd(submit_ok(s, greedy(prompt, 25)));
    const result& r = rd.wait();
    REQUIRE(r.info);
    CHECK(r.info->reason == finish_reason::length);
    CHECK(r.info->prompt_tokens == 30);
    CHECK(r.info->completion_tokens == 25);
    CHECK(r.info->cached_tokens == 0);
    CHECK(r.info->first_token >= r.info->first_scheduled);
    CHECK(r.info->finished >= r.info->first_token);
    CHECK(r.tokens == greedy_alone(prompt, 25));
    // Counters are published after the step that ended the stream.
    CHECK(eventually([&] { return s.counters().generation_tokens == 25; }));
    CHECK(s.counters().prompt_tokens == 30);
    CHECK(eventually([&] { return s.load().kv_blocks_free == s.load().kv_blocks_total; }));
  }

  TEST_CASE("scheduler: concurrent greedy requests equal the same requests run alone") {
    const auto reqs = mixed_requests();
    const auto alone = run_each_alone(reqs);
    for (std::size_t i = 0; i < reqs.size(); ++i) {
      CHECK(alone[i] == greedy_alone(reqs[i].prompt, *reqs[i].sampling.max_tokens));
    }
    for (bool prefix : {true, false}) {
      CAPTURE(prefix);
      scheduler_config c = small_config();
      c.prefix_caching = prefix;
      c.step_tokens = 24;  // the 64- and 90-token prompts take several steps (chunked prefill)
      scheduler s(tiny_model(), c);
      const auto together = run_together(s, reqs);
      for (std::size_t i = 0; i < reqs.size(); ++i) {
        CAPTURE(i);
        REQUIRE(together[i].info);
        CHECK(together[i].info->reason == finish_reason::length);
        CHECK(together[i].tokens == alone[i]);
      }
      CHECK(s.counters().steps > 10);
    }
  }

  TEST_CASE("scheduler: a request sharing a prefix is served from the cache with the same output") {
    const auto system = prompt_for(70, 9);  // 4 full blocks of 16
    auto first = system, second = system;
    for (int32_t t : prompt_for(9, 10)) first.push_back(t);
    for (int32_t t : prompt_for(12, 11)) second.push_back(t);
    const auto alone = run_each_alone({greedy(first, 16), greedy(second, 16)});

    scheduler s(tiny_model(), small_config());
    reader a(submit_ok(s, greedy(first, 16)));
    CHECK(a.wait().tokens == alone[0]);
    CHECK(a.got().info->cached_tokens == 0);
    reader b(submit_ok(s, greedy(second, 16)));
    const result& rb = b.wait();
    CHECK(rb.tokens == alone[1]);
    CHECK(rb.info->cached_tokens == 64);
    CHECK(eventually([&] { return s.load().running == 0; }));
    const engine_counters c = s.counters();
    CHECK(c.prefix_queries == first.size() + second.size());
    CHECK(c.prefix_hits == 64);
    // Nothing runs: every held hash is a free cached block.
    CHECK(s.load().kv_blocks_cached > 0);
  }

  TEST_CASE("scheduler: a tiny pool evicts and preempts, and no request fails") {
    std::vector<generation_request> reqs;
    for (int i = 0; i < 5; ++i) reqs.push_back(greedy(prompt_for(30 + 5 * i, 20 + i), 40));
    // Seeded samplers: a preempted sequence keeps its sampler state, so its draws continue.
    for (int i : {1, 2, 3, 4}) {
      reqs[static_cast<std::size_t>(i)].sampling.temperature = 0.9f;
      reqs[static_cast<std::size_t>(i)].sampling.seed = 1000u + static_cast<uint64_t>(i);
    }
    const auto alone = run_each_alone(reqs);
    scheduler_config c = small_config();
    c.max_model_len = 96;
    c.kv_blocks = 8;  // 128 tokens: each request needs up to 6 blocks of 16
    c.step_tokens = 32;
    scheduler s(tiny_model(), c);
    const auto together = run_together(s, reqs);
    for (std::size_t i = 0; i < reqs.size(); ++i) {
      CAPTURE(i);
      REQUIRE(together[i].info);
      CHECK(together[i].info->reason == finish_reason::length);
      CHECK(together[i].tokens == alone[i]);
    }
    CHECK(eventually([&] { return s.load().running == 0; }));
    const engine_counters k = s.counters();
    MESSAGE("preemptions " << k.preemptions << ", evictions " << k.kv_evictions << ", steps " << k.steps);
    CHECK(k.preemptions > 0);
    CHECK(k.kv_evictions > 0);
    int32_t preempted = 0, seeded_preempted = 0;
    for (std::size_t i = 0; i < together.size(); ++i) {
      preempted += together[i].info->preemptions;
      if (reqs[i].sampling.seed) seeded_preempted += together[i].info->preemptions;
    }
    CHECK(seeded_preempted > 0);
    CHECK(preempted == static_cast<int32_t>(k.preemptions));
  }

  TEST_CASE("scheduler: a long prompt is prefilled in chunks while running streams keep decoding") {
    scheduler_config c = small_config();
    c.step_tokens = 32;
    scheduler s(tiny_model(), c);
    reader running(submit_ok(s, greedy(prompt_for(10, 70), 120)));
    running.wait(2);
    const auto long_prompt = prompt_for(600, 71);
    reader late(submit_ok(s, greedy(long_prompt, 4)));
    const result& l = late.wait();
    CHECK(l.tokens == greedy_alone(long_prompt, 4));
    const result& r = running.wait();
    REQUIRE(r.tokens.size() == 120);
    // 600 prompt tokens at <= 31 a step (one budget token goes to the decode): 20 steps, each
    // also giving the running stream a token.
    int during = 0;
    for (const steady_clock::time_point t : r.at) during += (t > l.info->first_scheduled && t < l.info->first_token) ? 1 : 0;
    MESSAGE("running stream tokens during the long prefill: " << during);
    CHECK(during >= 18);
  }

  TEST_CASE("scheduler: a short request arriving during a long prefill is not stuck behind it") {
    scheduler_config c = small_config();
    c.step_tokens = 32;  // short prompts: at most 8 tokens left to compute
    scheduler s(tiny_model(), c);
    const auto long_prompt = prompt_for(800, 90);
    reader long_req(submit_ok(s, greedy(long_prompt, 2)));
    // Wait until the long prompt is being prefilled, then send a short one.
    REQUIRE(eventually([&] { return s.load().running == 1 && s.counters().steps >= 2; }));
    const auto short_prompt = prompt_for(6, 91);
    reader short_req(submit_ok(s, greedy(short_prompt, 2)));
    const result& sr = short_req.wait();
    const result& lr = long_req.wait();
    REQUIRE(sr.info);
    REQUIRE(lr.info);
    CHECK(sr.tokens == greedy_alone(short_prompt, 2));
    CHECK(lr.tokens == greedy_alone(long_prompt, 2));
    // 800 tokens at 32 a step take 25 steps; the short request's first token comes long before.
    CHECK(sr.info->first_token < lr.info->first_token);
  }

  TEST_CASE("scheduler: cancel ends the request and frees its blocks") {
    scheduler s(tiny_model(), small_config());
    generation_request long_one = greedy(prompt_for(40, 30), 400);
    auto stream = submit_ok(s, long_one);
    reader rd(stream);
    rd.wait(3);
    const load_info busy = s.load();
    CHECK(busy.running == 1);
    CHECK(busy.kv_blocks_free < busy.kv_blocks_total);
    stream->cancel();
    const result& r = rd.wait();
    REQUIRE(r.info);
    CHECK(r.info->reason == finish_reason::cancelled);
    CHECK(r.info->completion_tokens < 400);
    CHECK(eventually([&] {
      const load_info l = s.load();
      return l.running == 0 && l.kv_blocks_free == l.kv_blocks_total;
    }));
    // A cancel with another reason (the HTTP side matched a stop string).
    auto other = submit_ok(s, greedy(prompt_for(10, 31), 400));
    reader rd2(other);
    rd2.wait(1);
    other->cancel(finish_reason::stop);
    CHECK(rd2.wait().info->reason == finish_reason::stop);
  }

  TEST_CASE("scheduler: a full channel pauses its sequence and loses nothing") {
    scheduler_config c = small_config();
    c.channel_capacity = 4;
    scheduler s(tiny_model(), c);
    const auto slow_prompt = prompt_for(20, 40);
    auto slow = submit_ok(s, greedy(slow_prompt, 30));
    reader fast(submit_ok(s, greedy(prompt_for(25, 41), 30)));
    CHECK(fast.wait().tokens.size() == 30);
    // The unread stream stopped at its capacity: generation waits for the reader.
    CHECK(eventually([&] { return s.counters().generation_tokens == 34; }));
    CHECK(s.load().running == 1);
    reader rd(slow);
    const result& r = rd.wait();
    CHECK(r.tokens == greedy_alone(slow_prompt, 30));
    CHECK(r.info->reason == finish_reason::length);
  }

  TEST_CASE("scheduler: an idle scheduler wakes at once for a cancel") {
    scheduler_config c = small_config();
    c.channel_capacity = 2;
    scheduler s(tiny_model(), c);
    auto paused = submit_ok(s, greedy(prompt_for(12, 45), 50));
    // Unread: the sequence pauses at 2 tokens and the thread goes to sleep.
    CHECK(eventually([&] { return s.counters().generation_tokens == 2; }));
    reader rd(paused);
    const auto t0 = steady_clock::now();
    paused->cancel();
    const result& r = rd.wait();
    const double waited = std::chrono::duration<double>(steady_clock::now() - t0).count();
    CHECK(r.info->reason == finish_reason::cancelled);
    CHECK_MESSAGE(r.tokens.size() == 2, "tokens " << r.tokens.size() << " completion " << r.info->completion_tokens);
    // The thread's safety-net wake is 1 s; a poke must end it well before that.
    CHECK(waited < 0.9);
    CHECK(eventually([&] { return s.load().kv_blocks_free == s.load().kv_blocks_total; }));
  }

  TEST_CASE("scheduler: KV events agree with the prefix cache and /load") {
    scheduler s(tiny_model(), small_config());
    kv_event_feed& feed = s.kv_events();
    std::set<uint64_t> mirror;
    uint64_t at = 0;
    auto follow = [&] {
      std::vector<kv_event_batch> out;
      REQUIRE(feed.since(at, out));
      for (const kv_event_batch& b : out) {
        for (uint64_t h : b.stored) mirror.insert(h);
        for (uint64_t h : b.removed) mirror.erase(h);
        at = b.seq;
      }
    };
    std::vector<generation_request> reqs;
    for (int i = 0; i < 3; ++i) reqs.push_back(greedy(prompt_for(33 + 16 * i, 50 + i), 12));
    const auto got = run_together(s, reqs);
    CHECK(eventually([&] { return s.load().running == 0; }));
    follow();
    const kv_snapshot snap = feed.snapshot();
    CHECK(std::set<uint64_t>(snap.hashes.begin(), snap.hashes.end()) == mirror);
    CHECK(static_cast<int64_t>(snap.hashes.size()) == s.load().kv_blocks_cached);
    // Exactly the full blocks of each request's computed tokens (prompt + all generated but the
    // last), hashed with the tokenizer's seed.
    std::set<uint64_t> want;
    for (std::size_t i = 0; i < reqs.size(); ++i) {
      auto toks = reqs[i].prompt;
      toks.insert(toks.end(), got[i].tokens.begin(), got[i].tokens.end() - 1);
      for (uint64_t h : block_hashes(toks, s.config().hash_seed, 16)) want.insert(h);
    }
    CHECK(mirror == want);
  }

  TEST_CASE("scheduler: refusals, end-of-generation and stop tokens, stop()") {
    scheduler_config c = small_config();
    c.max_model_len = 64;
    scheduler s(tiny_model(), c);
    CHECK(s.submit(greedy({}, 4)).error->kind == submit_error_kind::invalid);
    CHECK(s.submit(greedy({1, 99999}, 4)).error->kind == submit_error_kind::invalid);
    CHECK(s.submit(greedy(prompt_for(64, 1), 4)).error->kind == submit_error_kind::too_long);
    CHECK(s.submit(greedy(prompt_for(40, 1), 30)).error->kind == submit_error_kind::too_long);
    generation_request bad = greedy(prompt_for(4, 1), 4);
    bad.sampling.top_p = 2.0f;
    CHECK(s.submit(bad).error->kind == submit_error_kind::invalid);

    // Without max_tokens the context bounds it: prompt + completion == max_model_len.
    generation_request open = greedy(prompt_for(50, 2), 1);
    open.sampling.max_tokens.reset();
    reader ro(submit_ok(s, open));
    CHECK(ro.wait().info->reason == finish_reason::length);
    CHECK(ro.got().info->completion_tokens == 14);

    // A stop token ends generation with reason stop and is not streamed.
    const auto prompt = prompt_for(12, 3);
    const auto plain = greedy_alone(prompt, 10);
    generation_request stopper = greedy(prompt, 10);
    stopper.stop_token_ids = {plain[4]};
    reader rs(submit_ok(s, stopper));
    const result& r = rs.wait();
    CHECK(r.info->reason == finish_reason::stop);
    std::size_t first = 0;
    while (plain[first] != plain[4]) ++first;
    CHECK(r.tokens == std::vector<int32_t>(plain.begin(), plain.begin() + static_cast<long>(first)));
    CHECK(r.info->completion_tokens == static_cast<int32_t>(first) + 1);

    // stop(): queued requests still finish; later submissions are refused.
    reader r1(submit_ok(s, greedy(prompt_for(8, 4), 6)));
    reader r2(submit_ok(s, greedy(prompt_for(9, 5), 6)));
    s.stop();
    CHECK(r1.wait().info->reason == finish_reason::length);
    CHECK(r2.wait().tokens.size() == 6);
    CHECK(s.submit(greedy(prompt_for(4, 6), 2)).error->kind == submit_error_kind::stopped);
  }

  TEST_CASE("scheduler: stop(cancel) and destruction end running requests") {
    auto s = std::make_unique<scheduler>(tiny_model(), small_config());
    auto a = submit_ok(*s, greedy(prompt_for(8, 60), 300));
    reader ra(a);
    ra.wait(1);
    s->stop(true);
    CHECK(ra.wait().info->reason == finish_reason::cancelled);

    auto s2 = std::make_unique<scheduler>(tiny_model(), small_config());
    auto b = submit_ok(*s2, greedy(prompt_for(8, 61), 300));
    reader rb(b);
    rb.wait(1);
    s2.reset();
    CHECK(rb.wait().info->reason == finish_reason::error);
  }

  TEST_CASE("scheduler: bad configurations are rejected") {
    scheduler_config c = small_config();
    c.max_model_len = 4096;
    c.kv_blocks = 8;
    CHECK_THROWS_AS(scheduler(tiny_model(), c), std::invalid_argument);
    c = small_config();
    c.step_tokens = 4;
    CHECK_THROWS_AS(scheduler(tiny_model(), c), std::invalid_argument);
    c = small_config();
    c.kv_blocks = 0;
    c.kv_memory_bytes = 1000;  // less than one block
    CHECK_THROWS_AS(scheduler(tiny_model(), c), std::invalid_argument);
    // max_model_len 0: the model's context, capped to the pool
    c = small_config();
    c.kv_blocks = 4;
    scheduler s(tiny_model(), c);
    CHECK(s.max_model_len() == 64);
  }
}

// Not a timed test: prints aggregate decode tokens/s at 1, 2, 4, 8 concurrent streams through the
// scheduler on a seeded random llama (8 layers, 512 wide, Q8_0, llama-spm vocab). Run with
//   unit_engine -tc="scheduler bench*" --no-skip
TEST_SUITE("engine") {
  TEST_CASE("scheduler bench: aggregate decode tokens/s by concurrent streams" * doctest::skip()) {
    mkmodel_options o;
    o.arch = "llama";
    o.vocab_path = data_path("tokenizer/ggml-vocab-llama-spm.gguf");
    o.layers = 8, o.embd = 512, o.seed = 3, o.ctx = 2048;
    o.out = (std::filesystem::temp_directory_path() / "laneway-sched-bench.gguf").string();
    REQUIRE_FALSE(resolve_mkmodel_options(o));
    make_random_model(o);
    const model m = model::open(o.out);
    // The forward pass alone, for comparison: one decode step of n sequences at position 64.
    for (int n : {1, 2, 4, 8}) {
      contiguous_kv_cache cache(kv_layout_for(m, laneway::cpu::dtype::f16), n, 256);
      cpu_forward fwd(m, cache, 2);
      batch b;
      for (int q = 0; q < n; ++q) {
        for (int p = 0; p < 64; ++p) b.add(100 + p, p, q, false);
      }
      fwd.decode(b);
      const int steps = 64;
      const auto t0 = steady_clock::now();
      for (int st = 0; st < steps; ++st) {
        b.clear();
        for (int q = 0; q < n; ++q) b.add(200 + q, 64 + st, q, true);
        fwd.decode(b);
      }
      const double secs = std::chrono::duration<double>(steady_clock::now() - t0).count();
      MESSAGE("forward alone, " << n << " sequences: " << n * steps / secs << " decode tokens/s");
    }
    double single = 0;
    for (int n : {1, 2, 4, 8}) {
      scheduler_config c;
      c.kv_blocks = 1024, c.max_seqs = 8, c.threads = 2;
      c.channel_capacity = 256;  // the readers below are drained one after another
      scheduler s(m, c);
      std::vector<std::unique_ptr<reader>> readers;
      for (int i = 0; i < n; ++i) {
        generation_request r;
        for (int k = 0; k < 16; ++k) r.prompt.push_back(100 + 37 * i + k);
        r.sampling.temperature = 0.0f, r.sampling.max_tokens = 128, r.ignore_eos = true;
        readers.push_back(std::make_unique<reader>(submit_ok(s, r)));
      }
      steady_clock::time_point first{}, last{};
      int64_t tokens = 0;
      for (auto& rd : readers) {
        const result& r = rd->wait();
        // decode time: from the first token (prefill done) to the last
        first = std::max(first, r.info->first_token);
        last = std::max(last, r.info->finished);
        tokens += r.info->completion_tokens - 1;
      }
      const double tps = static_cast<double>(tokens) / std::chrono::duration<double>(last - first).count();
      if (n == 1) single = tps;
      MESSAGE(n << " streams: " << tps << " decode tokens/s aggregate (" << tps / single << "x of 1)");
    }
    std::filesystem::remove(o.out);
  }
}
