// The scheduler thread's own state and its step (internal to the engine; the public face is
// scheduler.hpp): the paged KV pool, the forward backend, the waiting queue and the running set.
// How a step is built is described at the top of scheduler_step.cpp and in docs/scheduler.md.
//
// Single-threaded: only the scheduler thread touches it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "backends/engine/forward.hpp"
#include "backends/engine/paged_kv_cache.hpp"
#include "backends/engine/sampler.hpp"
#include "backends/engine/scheduler.hpp"

namespace laneway::engine {

// One request from submission to its end.
struct scheduler_sequence {
  scheduler_sequence(generation_request r, std::shared_ptr<request_stream> s, int32_t n_vocab)
      : req(std::move(r)), stream(std::move(s)), smp(req.sampling, n_vocab), tokens(req.prompt) {
    smp.accept_prompt(req.prompt);
  }

  generation_request req;
  std::shared_ptr<request_stream> stream;
  sampler smp;                  // kept across preemptions
  std::vector<int32_t> tokens;  // prompt + generated so far
  int32_t n_computed = 0;       // leading tokens whose K/V are in the cache
  int32_t slot = -1;            // sequence slot while running
  bool admitted_before = false;
  bool done = false;            // finished; removed from the running set at the end of the step
  finish_info info;

  int32_t remaining() const { return static_cast<int32_t>(tokens.size()) - n_computed; }
};

class scheduler_core {
 public:
  // max_model_len and hash_seed resolved by the scheduler; eog: the vocabulary's end-of-generation
  // tokens.
  scheduler_core(const model& m, const scheduler_config& cfg, int64_t n_blocks, int32_t max_model_len,
                 std::vector<int32_t> eog, kv_event_feed& events);

  // New requests join the back of the waiting queue.
  void enqueue(std::deque<std::unique_ptr<scheduler_sequence>>& incoming);
  // One step: drop cancelled requests, admit, build and run a batch, publish KV events. Returns
  // false when it could not schedule anything (idle or every stream paused): the caller then
  // waits to be poked.
  bool step();
  // Ends every waiting and running request (stop(cancel) / shutdown).
  void finish_all(finish_reason reason, const std::string& message);
  bool idle() const { return waiting_.empty() && running_.empty(); }

  int32_t n_running() const { return static_cast<int32_t>(running_.size()); }
  int32_t n_waiting() const { return static_cast<int32_t>(waiting_.size()); }
  kv_block_counts blocks() const { return cache_.counts(); }
  const engine_counters& counters() const { return counters_; }
  // Tokens computed by the last step: prompt chunks and decodes.
  int64_t last_prefill_tokens() const { return last_prefill_; }
  int64_t last_decode_tokens() const { return last_decode_; }
  forward_backend& forward() { return *forward_; }

 private:
  using seq_ptr = std::unique_ptr<scheduler_sequence>;
  struct batch_entry {
    scheduler_sequence* seq;
    int32_t n_tokens;
    bool samples;  // its last token's logits are sampled
  };

  // scheduler_core.cpp: the sequences' life cycle.
  void drop_cancelled();
  void admit_waiting();
  void preempt(std::size_t running_index);
  void finish(scheduler_sequence& s, finish_reason reason, std::string message = {});
  void remove_finished();
  // scheduler_step.cpp: the batch.
  int64_t schedule_decodes();
  bool schedule_decode(std::size_t index);
  void schedule_prefills(int64_t budget);
  void run_batch();
  void accept_sample(scheduler_sequence& s, const sampled_token& t);

  const model& model_;
  scheduler_config cfg_;
  int32_t max_model_len_;
  int32_t n_vocab_;
  std::vector<uint8_t> is_eog_;  // [n_vocab]
  kv_event_feed& events_;
  paged_kv_cache cache_;
  std::unique_ptr<forward_backend> forward_;

  std::deque<seq_ptr> waiting_;          // front first; preempted ones go back to the front
  std::vector<seq_ptr> running_;         // admission order: the back is the youngest
  std::vector<int32_t> free_slots_;
  batch batch_;
  std::vector<batch_entry> entries_;
  engine_counters counters_;
  int64_t last_prefill_ = 0, last_decode_ = 0;
};

}  // namespace laneway::engine
