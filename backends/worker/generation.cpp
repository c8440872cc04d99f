// POST /v1/chat/completions and /v1/completions: the request's phases in order —
//   parse and validate the body -> build the prompt (chat template, tokenizer) -> submit to the
//   scheduler -> relay tokens as they come (detokenize UTF-8-safely, cut at stop strings, collect
//   logprobs) as SSE chunks or one JSON object -> finish: usage, metrics, one access-log line.
// The coroutine never blocks: it sleeps on an engine_waiter that the scheduler's notify wakes.
// A client that disconnects, a stop string that matches, or the request timeout cancels the
// sequence, which the scheduler drops within one step.
#include <boost/asio/this_coro.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "backends/engine/stop_strings.hpp"
#include "backends/worker/openai_response.hpp"
#include "backends/worker/stream_io.hpp"
#include "backends/worker/worker_api.hpp"
#include "gateway/http/log.hpp"
#include "gateway/http/responses.hpp"

namespace laneway::worker {

namespace {

using json = nlohmann::json;
using engine::finish_reason;
using steady = std::chrono::steady_clock;

std::string_view route_name(api_kind kind) { return kind == api_kind::chat ? "chat_completions" : "completions"; }

double ms_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// The prompt's token ids (and its text, for echo), or the error to answer with.
struct prepared_prompt {
  std::vector<int32_t> tokens;
  std::string text;
};

http::result<prepared_prompt> prepare_prompt(const completion_request& req, const worker_state& w) {
  prepared_prompt p;
  if (req.kind == api_kind::chat) {
    p.text = w.tmpl.apply(req.messages, true);
    p.tokens = w.tok.tokenize(p.text, true, true);
  } else if (req.prompt_text) {
    p.text = *req.prompt_text;
    p.tokens = w.tok.tokenize(p.text, true, true);
  } else {
    const auto n_vocab = static_cast<int32_t>(w.model.hparams().n_vocab);
    for (int32_t id : req.prompt_tokens) {
      if (id >= n_vocab)
        return http::make_error(http::error_kind::bad_request,
                                "prompt token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                    std::to_string(n_vocab) + ")", "prompt");
    }
    p.tokens = req.prompt_tokens;
    p.text = w.tok.detokenize(p.tokens);
  }
  if (p.tokens.empty()) return http::make_error(http::error_kind::bad_request, "the prompt has no tokens", "prompt");
  return p;
}

http::error submit_failure(const engine::submit_error& e, api_kind kind) {
  const char* prompt_field = kind == api_kind::chat ? "messages" : "prompt";
  switch (e.kind) {
    case engine::submit_error_kind::too_long: return http::make_error(http::error_kind::context_length_exceeded, e.message, prompt_field);
    case engine::submit_error_kind::queue_full: return http::make_error(http::error_kind::overloaded, e.message);
    case engine::submit_error_kind::stopped: return http::make_error(http::error_kind::shutting_down, e.message);
    case engine::submit_error_kind::invalid: break;
  }
  return http::make_error(http::error_kind::bad_request, e.message, prompt_field);
}

// What one generation produced, for the response, the metrics and the log line.
class generation {
 public:
  generation(http::exchange& ex, worker_state& w, const completion_request& req, std::string prompt_text)
      : ex_(ex), w_(w), req_(req), prompt_text_(std::move(prompt_text)), detok_(w.tok), stops_(req.stop),
        logprobs_(w.tok, req.kind),
        builder_(req.kind, (req.kind == api_kind::chat ? "chatcmpl-" : "cmpl-") + ex.request_id, w.model_name,
                 std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count()),
        sse_(ex) {}

  asio::awaitable<unsigned> run(std::shared_ptr<engine::request_stream> stream);

 private:
  // Feeds one token; returns the text that is safe to send now.
  std::string accept(const engine::stream_token& t);
  asio::awaitable<bool> send(std::string_view data);  // false when the client is gone
  asio::awaitable<unsigned> respond_end(const engine::finish_info& f);
  void observe_gap(const engine::stream_token& t);
  void log_line(unsigned status, const engine::finish_info* f);

  http::exchange& ex_;
  worker_state& w_;
  const completion_request& req_;
  std::string prompt_text_;
  engine::stream_detokenizer detok_;
  engine::stop_matcher stops_;
  logprob_log logprobs_;
  response_builder builder_;
  sse_writer sse_;
  std::string text_;            // everything released so far (non-streamed: the answer)
  bool stopped_by_string_ = false;
  steady::time_point last_token_{};
  bool write_failed_ = false;
};

std::string generation::accept(const engine::stream_token& t) {
  observe_gap(t);
  if (stopped_by_string_) return {};
  if (req_.sampling.logprobs) logprobs_.add(t.sample, text_.size());
  std::string piece;
  detok_.push(t.sample.token, piece);
  auto step = stops_.push(piece);
  std::string out(step.text);
  if (step.stopped) stopped_by_string_ = true;
  text_ += out;
  return out;
}

void generation::observe_gap(const engine::stream_token& t) {
  if (last_token_ != steady::time_point{}) w_.metrics.inter_token(std::chrono::duration<double>(t.at - last_token_).count());
  last_token_ = t.at;
}

asio::awaitable<bool> generation::send(std::string_view data) {
  if (write_failed_) co_return false;
  if (auto ec = co_await sse_.write(data)) write_failed_ = true;
  co_return !write_failed_;
}

asio::awaitable<unsigned> generation::run(std::shared_ptr<engine::request_stream> stream) {
  auto waiter = engine_waiter::create(co_await asio::this_coro::executor);
  stream->set_notify(waiter->notifier());
  waiter->watch_client(ex_.stream.tcp());
  const auto deadline = steady::now() + w_.config.request_timeout;
  if (req_.stream) {
    if (co_await sse_.start()) write_failed_ = true;
    std::string first = builder_.first_chunk();
    if (req_.echo) first += builder_.delta_chunk(prompt_text_, nullptr);
    if (!write_failed_) co_await send(first);
  } else if (req_.echo) {
    text_ = prompt_text_;
  }
  std::vector<engine::stream_token> tokens;
  std::optional<engine::finish_info> done;
  bool cancelled = false;
  for (;;) {
    tokens.clear();
    stream->take(tokens, done);
    std::string chunk_text;
    for (const auto& t : tokens) {
      std::string piece = accept(t);
      if (!req_.stream) continue;
      json lp;
      bool with_lp = req_.sampling.logprobs && !logprobs_.empty();
      if (with_lp) lp = logprobs_.take();
      if (!piece.empty() || with_lp) chunk_text += builder_.delta_chunk(piece, with_lp ? &lp : nullptr);
    }
    if (!chunk_text.empty()) co_await send(chunk_text);
    if (done) break;
    if (!cancelled && (stopped_by_string_ || waiter->client_gone() || write_failed_ || steady::now() >= deadline)) {
      // The scheduler ends the sequence within a step and then reports `done` with its usage.
      stream->cancel(stopped_by_string_ ? finish_reason::stop : finish_reason::cancelled);
      cancelled = true;
    }
    co_await waiter->wait(cancelled ? steady::now() + std::chrono::seconds(5) : deadline);
    if (cancelled && !done && steady::now() > deadline + std::chrono::seconds(30)) break;  // bound the wait
  }
  waiter->stop_watching();
  stream->set_notify({});
  if (!done) {  // the scheduler never confirmed (stopped): answer with what we have
    engine::finish_info f;
    f.reason = finish_reason::error;
    f.message = "the engine did not finish the request in time";
    done = f;
  }
  if (!stopped_by_string_ && steady::now() >= deadline && done->reason == finish_reason::cancelled && !waiter->client_gone()) {
    done->reason = finish_reason::error;
    done->message = "generation_timeout";
  }
  w_.metrics.request_finished(*done);
  co_return co_await respond_end(*done);
}

asio::awaitable<unsigned> generation::respond_end(const engine::finish_info& f) {
  // Text held back (a possible stop-string prefix, an incomplete UTF-8 sequence) is released.
  if (!stopped_by_string_) {
    std::string tail;
    detok_.finish(tail);
    std::string rest(stops_.push(tail).text);
    if (!stops_.stopped()) rest += stops_.finish();
    text_ += rest;
    if (req_.stream && !rest.empty()) co_await send(builder_.delta_chunk(rest, nullptr));
  }
  usage_counts usage{f.prompt_tokens, f.completion_tokens, f.cached_tokens};
  const bool gone = f.reason == finish_reason::cancelled && !stopped_by_string_;
  std::string_view reason = stopped_by_string_ || f.reason == finish_reason::stop ? "stop" : "length";
  if (f.reason == finish_reason::error) {
    http::error err = f.message == "generation_timeout"
                          ? http::make_error(http::error_kind::generation_timeout, "the generation ran past the worker's request_timeout")
                          : http::make_error(http::error_kind::internal, "generation failed: " + f.message);
    if (req_.stream) {
      co_await send(http::sse_error_event(err));
      if (!write_failed_) co_await sse_.finish();
      log_line(200, &f);
      co_return 200;
    }
    co_await http::write_error(ex_, err);
    log_line(err.status(), &f);
    co_return err.status();
  }
  if (gone) {  // the client left: nothing to answer
    ex_.keep_alive = false;
    log_line(499, &f);
    co_return 499;
  }
  json lp;
  const bool with_lp = req_.sampling.logprobs;
  if (with_lp) lp = logprobs_.take();
  if (req_.stream) {
    std::string end = builder_.final_chunk(reason, with_lp && !lp.empty() ? &lp : nullptr);
    if (req_.include_usage) end += builder_.usage_chunk(usage);
    end += response_builder::done_event();
    co_await send(end);
    if (!write_failed_) co_await sse_.finish();
  } else {
    co_await http::write_json(ex_, 200, builder_.full(text_, reason, usage, with_lp ? &lp : nullptr));
  }
  log_line(200, &f);
  co_return 200;
}

void generation::log_line(unsigned status, const engine::finish_info* f) {
  if (!w_.config.log_requests || !http::log_enabled(http::log_level::info)) return;
  const auto now = steady::now();
  http::line_builder line(http::log_level::info);
  line.str("msg", "request").str("request_id", ex_.request_id).str("route", route_name(req_.kind)).num("status", uint64_t{status});
  line.boolean("stream", req_.stream);
  if (f) {
    const steady::time_point zero{};
    line.str("finish_reason", stopped_by_string_ ? "stop" : engine::to_string(f->reason));
    line.num("prompt_tokens", static_cast<uint64_t>(f->prompt_tokens)).num("cached_tokens", static_cast<uint64_t>(f->cached_tokens));
    line.num("completion_tokens", static_cast<uint64_t>(f->completion_tokens)).num("preemptions", static_cast<uint64_t>(f->preemptions));
    line.num_or_null("queue_ms", ms_between(f->submitted, f->first_scheduled), f->first_scheduled != zero);
    line.num_or_null("ttft_ms", ms_between(f->submitted, f->first_token), f->first_token != zero);
  }
  line.num("duration_ms", ms_between(ex_.started, now));
  line.write();
}

asio::awaitable<void> answer_error(http::exchange& ex, worker_state& w, api_kind kind, const http::error& err) {
  co_await http::write_error(ex, err);
  w.metrics.http_answer(route_name(kind), err.status());
  if (w.config.log_requests && http::log_enabled(http::log_level::info)) {
    http::line_builder(http::log_level::info)
        .str("msg", "request")
        .str("request_id", ex.request_id)
        .str("route", route_name(kind))
        .num("status", uint64_t{err.status()})
        .str("error", err.code())
        .str_or_null("param", err.param)  // not the message: it can quote the request (docs/privacy.md)
        .num("duration_ms", ms_between(ex.started, steady::now()))
        .write();
  }
}

}  // namespace

asio::awaitable<void> serve_generation(http::exchange& ex, worker_state& w, api_kind kind) {
  auto parsed = kind == api_kind::chat ? parse_chat_request(ex.req.body()) : parse_completion_request(ex.req.body());
  if (!parsed) co_return co_await answer_error(ex, w, kind, parsed.err());
  const completion_request& req = *parsed;
  if (!req.model.empty() && req.model != w.model_name) {
    co_return co_await answer_error(
        ex, w, kind,
        http::make_error(http::error_kind::model_not_found,
                         "The model '" + req.model + "' does not exist on this worker (it serves '" + w.model_name + "')", "model"));
  }
  if (auto bad = engine::validate(req.sampling))
    co_return co_await answer_error(ex, w, kind, http::make_error(http::error_kind::bad_request, bad->message, bad->field));
  auto prompt = prepare_prompt(req, w);
  if (!prompt) co_return co_await answer_error(ex, w, kind, prompt.err());

  engine::generation_request g;
  g.request_id = ex.request_id;
  g.prompt = std::move(prompt->tokens);
  g.sampling = req.sampling;
  g.ignore_eos = req.ignore_eos;
  g.stop_token_ids = req.stop_token_ids;
  auto sub = w.sched.submit(std::move(g));
  if (sub.error) co_return co_await answer_error(ex, w, kind, submit_failure(*sub.error, kind));

  generation gen(ex, w, req, std::move(prompt->text));
  unsigned status = co_await gen.run(sub.stream);
  w.metrics.http_answer(route_name(kind), status);
}

}  // namespace laneway::worker
