// scheduler_core: the life cycle of a sequence on the scheduler thread — waiting, admitted by free
// KV blocks (attaching cached prefix blocks), preempted back to the front of the queue, finished
// (blocks released, stream ended). The step itself is in scheduler_step.cpp.
#include <algorithm>
#include <stdexcept>
#include <utility>

#include "backends/engine/kv_events.hpp"
#include "backends/engine/scheduler_core.hpp"

namespace laneway::engine {

scheduler_core::scheduler_core(const model& m, const scheduler_config& cfg, int64_t n_blocks, int32_t max_model_len,
                               std::vector<int32_t> eog, kv_event_feed& events)
    : model_(m),
      cfg_(cfg),
      max_model_len_(max_model_len),
      n_vocab_(static_cast<int32_t>(m.hparams().n_vocab)),
      is_eog_(static_cast<std::size_t>(n_vocab_), 0),
      events_(events),
      cache_(kv_layout_for(m, cfg.kv_type), n_blocks, cfg.block_size, cfg.max_seqs, max_model_len, cfg.hash_seed,
             &events),
      forward_(create_backend(cfg.backend, m, cache_, cfg.threads)) {
  for (const int32_t t : eog) {
    if (t >= 0 && t < n_vocab_) is_eog_[static_cast<std::size_t>(t)] = 1;
  }
  for (int32_t slot = cfg.max_seqs - 1; slot >= 0; --slot) free_slots_.push_back(slot);
}

void scheduler_core::enqueue(std::deque<seq_ptr>& incoming) {
  for (seq_ptr& s : incoming) waiting_.push_back(std::move(s));
  incoming.clear();
}

void scheduler_core::finish(scheduler_sequence& s, finish_reason reason, std::string message) {
  if (s.done) return;
  if (s.slot >= 0) {
    cache_.release(s.slot);
    free_slots_.push_back(s.slot);
    s.slot = -1;
  }
  s.done = true;
  s.info.reason = reason;
  s.info.message = std::move(message);
  s.info.prompt_tokens = static_cast<int32_t>(s.req.prompt.size());
  s.info.completion_tokens = s.smp.n_generated();
  s.info.finished = steady_clock::now();
  s.stream->finish(s.info);
}

void scheduler_core::remove_finished() {
  std::erase_if(running_, [](const seq_ptr& s) { return s->done; });
  std::erase_if(waiting_, [](const seq_ptr& s) { return s->done; });
}

void scheduler_core::drop_cancelled() {
  for (seq_ptr& s : running_) {
    if (s->stream->cancel_requested()) finish(*s, s->stream->cancel_reason());
  }
  for (seq_ptr& s : waiting_) {
    if (s->stream->cancel_requested()) finish(*s, s->stream->cancel_reason());
  }
  remove_finished();
}

void scheduler_core::finish_all(finish_reason reason, const std::string& message) {
  for (seq_ptr& s : running_) finish(*s, reason, message);
  for (seq_ptr& s : waiting_) finish(*s, reason, message);
  running_.clear();
  waiting_.clear();
}

// FIFO: the front request is admitted when its blocks (all of prompt + generated tokens, minus
// the cached prefix) are free, or nothing behind it is (no overtaking, so no starvation).
void scheduler_core::admit_waiting() {
  const int32_t block = cfg_.block_size;
  while (!waiting_.empty() && static_cast<int32_t>(running_.size()) < cfg_.max_seqs && !free_slots_.empty()) {
    scheduler_sequence& s = *waiting_.front();
    const int32_t slot = free_slots_.back();
    prefix_hit hit;
    if (cfg_.prefix_caching) hit = cache_.find_prefix(s.tokens);
    if (!cache_.admit(slot, hit, static_cast<int32_t>(s.tokens.size()))) break;
    free_slots_.pop_back();
    s.slot = slot;
    s.n_computed = hit.tokens(block);
    if (cfg_.prefix_caching) {
      counters_.prefix_queries += s.tokens.size();
      counters_.prefix_hits += static_cast<uint64_t>(s.n_computed);
    }
    if (!s.admitted_before) {
      s.admitted_before = true;
      s.info.cached_tokens = s.n_computed;
      s.info.first_scheduled = steady_clock::now();
      counters_.prompt_tokens += s.req.prompt.size();
    }
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
}

// Frees the blocks of running_[index] (its full blocks stay cached) and puts it at the front of
// the queue, to be recomputed from prompt + generated tokens; its sampler keeps its state.
void scheduler_core::preempt(std::size_t index) {
  seq_ptr s = std::move(running_[index]);
  running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(index));
  cache_.release(s->slot);
  free_slots_.push_back(s->slot);
  s->slot = -1;
  s->n_computed = 0;
  ++s->info.preemptions;
  ++counters_.preemptions;
  waiting_.push_front(std::move(s));
}

}  // namespace laneway::engine
