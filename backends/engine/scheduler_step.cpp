// One scheduler step (continuous batching with chunked prefill, as vLLM's scheduler):
//
//   1. Cancelled requests end and release their blocks.
//   2. Decodes first: every running sequence whose tokens are all computed but the last sampled
//      one gets that token in the batch (oldest first), unless its stream is full (backpressure:
//      it simply waits). A decode that crosses into a new block needs one; when none is free the
//      youngest running sequence is preempted (possibly the one asking), so the oldest always
//      progresses.
//   3. Waiting requests are admitted in FIFO order while the KV pool has blocks for all their
//      tokens (cached prefix blocks attached) — after the decodes took theirs, so an admission
//      never pushes a running stream out.
//   4. Prompt chunks fill the rest of the budget (step_tokens minus the decodes), short prompts
//      first, then oldest first: a long prompt is spread over several steps, so running streams
//      get a token every step and a short request is not stuck behind a long prefill.
//   5. One forward pass; each sequence's newly full blocks are hashed into the prefix cache; the
//      rows that end a sequence's computed tokens are sampled with its own sampler, and the token
//      is pushed to its stream or ends the request (stop token, max_tokens, max_model_len).
#include <algorithm>
#include <exception>
#include <span>
#include <string>

#include "backends/engine/kv_events.hpp"
#include "backends/engine/scheduler_core.hpp"

namespace laneway::engine {

bool scheduler_core::step() {
  drop_cancelled();
  batch_.clear();
  entries_.clear();
  const int64_t budget = cfg_.step_tokens - schedule_decodes();
  admit_waiting();
  schedule_prefills(budget);
  last_prefill_ = last_decode_ = 0;
  const bool worked = !entries_.empty();
  if (worked) {
    run_batch();
    remove_finished();
    ++counters_.steps;
  }
  counters_.kv_evictions = cache_.evictions();
  events_.publish();
  return worked;
}

// Adds running_[index]'s decode token, growing its block table (preempting the youngest running
// sequences when the pool is out of blocks). False when the sequence itself had to be preempted:
// every younger one was preempted before it.
bool scheduler_core::schedule_decode(std::size_t index) {
  scheduler_sequence& s = *running_[index];
  while (!cache_.grow(s.slot, s.n_computed + 1)) {
    const std::size_t youngest = running_.size() - 1;
    preempt(youngest);
    if (youngest == index) return false;
  }
  batch_.add(s.tokens[static_cast<std::size_t>(s.n_computed)], s.n_computed, s.slot, true);
  entries_.push_back({&s, 1, true});
  return true;
}

// The decode of every running sequence that has one; returns how many were scheduled.
int64_t scheduler_core::schedule_decodes() {
  int64_t n = 0;
  for (std::size_t i = 0; i < running_.size(); ++i) {
    const scheduler_sequence& s = *running_[i];
    if (s.remaining() != 1 || s.stream->full()) continue;
    if (!schedule_decode(i)) break;
    ++n;
  }
  return n;
}

// Prompt chunks (and the lone last prompt token of a sequence admitted this step with everything
// else cached), up to `budget` tokens: first the short prompts (at most a quarter of step_tokens
// left to compute) oldest first, then the rest oldest first. A short request that arrives while a
// long prompt is being prefilled so gets its first token after one step instead of after the whole
// long prefill; the long prompt still takes whatever budget the short ones leave, every step.
void scheduler_core::schedule_prefills(int64_t budget) {
  const std::size_t n_decodes = entries_.size();
  const int64_t short_prompt = std::max<int64_t>(1, cfg_.step_tokens / 4);
  auto schedule = [&](scheduler_sequence& s) {
    const bool decoding = std::any_of(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(n_decodes),
                                      [&](const batch_entry& e) { return e.seq == &s; });
    if (decoding || s.remaining() < 1) return;
    if (std::any_of(entries_.begin() + static_cast<std::ptrdiff_t>(n_decodes), entries_.end(),
                    [&](const batch_entry& e) { return e.seq == &s; }))
      return;  // scheduled in the first pass
    int32_t n = static_cast<int32_t>(std::min<int64_t>(s.remaining(), budget));
    bool samples = n == s.remaining();
    if (samples && s.stream->full()) --n, samples = false;  // paused, or recomputed and still unread
    if (n == 0) return;
    for (int32_t i = 0; i < n; ++i) {
      const int32_t pos = s.n_computed + i;
      batch_.add(s.tokens[static_cast<std::size_t>(pos)], pos, s.slot, samples && i + 1 == n);
    }
    entries_.push_back({&s, n, samples});
    budget -= n;
  };
  for (const seq_ptr& p : running_) {
    if (budget <= 0) return;
    if (p->remaining() <= short_prompt) schedule(*p);
  }
  for (const seq_ptr& p : running_) {
    if (budget <= 0) return;
    schedule(*p);
  }
}

void scheduler_core::run_batch() {
  std::span<const float> logits;
  try {
    logits = forward_->decode(batch_);
  } catch (const std::exception& e) {
    for (const batch_entry& e2 : entries_) finish(*e2.seq, finish_reason::error, std::string("forward pass failed: ") + e.what());
    return;
  }
  int64_t row = 0;
  for (const batch_entry& e : entries_) {
    scheduler_sequence& s = *e.seq;
    s.n_computed += e.n_tokens;
    if (e.n_tokens == 1 && e.samples && s.smp.n_generated() > 0) last_decode_ += 1;
    else last_prefill_ += e.n_tokens;
    if (cfg_.prefix_caching) {
      cache_.commit(s.slot, std::span<const int32_t>(s.tokens).first(static_cast<std::size_t>(s.n_computed)));
    }
    if (!e.samples) continue;
    const std::span<const float> row_logits = logits.subspan(static_cast<std::size_t>(row * n_vocab_),
                                                             static_cast<std::size_t>(n_vocab_));
    ++row;
    accept_sample(s, s.smp.sample(row_logits));
  }
  counters_.prefill_tokens += static_cast<uint64_t>(last_prefill_);
  counters_.decode_tokens += static_cast<uint64_t>(last_decode_);
}

void scheduler_core::accept_sample(scheduler_sequence& s, const sampled_token& t) {
  const steady_clock::time_point now = steady_clock::now();
  if (s.info.first_token == steady_clock::time_point{}) s.info.first_token = now;
  ++counters_.generation_tokens;
  s.tokens.push_back(t.token);
  const bool eog = !s.req.ignore_eos && is_eog_[static_cast<std::size_t>(t.token)];
  const auto& stops = s.req.stop_token_ids;
  if (eog || std::find(stops.begin(), stops.end(), t.token) != stops.end()) {
    finish(s, finish_reason::stop);
    return;
  }
  s.stream->push({t, now});  // room was checked when the step was built; only this thread pushes
  if (s.smp.reached_max_tokens() || static_cast<int32_t>(s.tokens.size()) >= max_model_len_) {
    finish(s, finish_reason::length);
  }
}

}  // namespace laneway::engine
