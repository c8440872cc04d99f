// The worker's engine loop: one scheduler thread owns the model's forward backend, the paged KV
// pool and every sequence. The HTTP side submits requests through a bounded queue and reads each
// request's tokens from its own bounded channel (request_stream), never blocking on the engine.
//
// Each step: admit waiting requests while KV blocks allow (prefix-cache hits attach already
// computed blocks), then build one batch — a decode token for every running sequence first, then
// prompt chunks up to the step's token budget (chunked prefill) — run the forward pass, sample,
// and push tokens to the channels. A sequence whose channel is full is skipped for that step
// (backpressure, not loss). When blocks run out mid-generation the youngest running sequence is
// preempted: its blocks are released (full ones stay in the prefix cache), and it goes back to the
// front of the queue to be recomputed from prompt + tokens generated so far; it never fails.
// Cancelled requests are dropped and their blocks released at the start of the next step.
//
// Thread safety: submit(), load(), counters(), kv_events() and request_stream's consumer side are
// safe from any thread; everything else runs on the scheduler thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "backends/cpu/quant_types.hpp"
#include "backends/engine/backend_registry.hpp"
#include "backends/engine/kv_events.hpp"
#include "backends/engine/sampler.hpp"

namespace laneway::engine {

class model;
class scheduler_core;
struct scheduler_sequence;

using steady_clock = std::chrono::steady_clock;

struct scheduler_config {
  int32_t block_size = 16;            // tokens per KV block (the prefix-hash block size)
  int64_t kv_blocks = 0;              // pool size in blocks; 0: derived from kv_memory_bytes
  uint64_t kv_memory_bytes = 1ull << 30;  // used when kv_blocks == 0
  cpu::dtype kv_type = cpu::dtype::f16;   // f16 (default) or f32
  int32_t max_seqs = 16;              // running sequences at most (the forward's sequence slots)
  int32_t max_model_len = 0;          // prompt + completion tokens; 0: the model's context_length
  int32_t step_tokens = 256;          // token budget of one step (decodes + prefill chunks)
  int32_t max_waiting = 256;          // bounded submission queue; submit() refuses beyond it
  int32_t channel_capacity = 64;      // tokens a stream may hold before its sequence pauses
  bool prefix_caching = true;
  int threads = 0;                    // forward pass threads; <= 0: all cores (CPU backend)
  backend_choice backend;             // the compute backend (choose_backend); default the CPU
  uint64_t hash_seed = 0;             // block-hash seed (block_hash.hpp); the tokenizer fingerprint
};

struct generation_request {
  std::string request_id;             // for log lines
  std::vector<int32_t> prompt;        // token ids, non-empty
  sampling_params sampling;           // validated by the caller (validate(sampling) is nullopt)
  bool ignore_eos = false;            // keep going past end-of-generation tokens
  std::vector<int32_t> stop_token_ids;  // extra tokens that end generation (reason "stop")
};

enum class finish_reason { stop, length, cancelled, error };
const char* to_string(finish_reason r);  // "stop", "length", "cancelled", "error"

struct stream_token {
  sampled_token sample;               // id (+ logprobs when asked)
  steady_clock::time_point at;        // when it was sampled
};

// Filled when the request ends.
struct finish_info {
  finish_reason reason = finish_reason::stop;
  std::string message;                // for reason == error
  int32_t prompt_tokens = 0;
  int32_t cached_tokens = 0;          // prompt tokens served from the prefix cache (first admission)
  int32_t completion_tokens = 0;
  int32_t preemptions = 0;
  steady_clock::time_point submitted, first_scheduled, first_token, finished;
};

// Wakes the scheduler thread. Shared by the scheduler and its streams, so a stream that outlives
// the scheduler can still be cancelled or read safely.
struct scheduler_signal {
  std::mutex mutex;
  std::condition_variable cv;
  bool poked = false;  // guarded by mutex; set by poke(), cleared by the scheduler when it wakes
  void poke();
};

// One request's channel from the scheduler thread to its consumer. The consumer side (take,
// cancel, set_notify) is thread-safe and never blocks on the engine.
//
// Tokens that end generation (an end-of-generation token unless ignore_eos, a stop_token_ids
// entry) are not pushed; finish_info.completion_tokens counts them, as vLLM does.
class request_stream {
 public:
  // Moves every token available now into `out` (appending) and, once the request has ended and all
  // its tokens were taken, sets `done` (every call from then on). Returns false when there was
  // nothing new (no token, and the end was already reported or has not come).
  bool take(std::vector<stream_token>& out, std::optional<finish_info>& done);
  // Asks the scheduler to stop the sequence; its blocks are released within one step and the
  // stream finishes with reason `cancelled` (or the reason given, e.g. stop after a stop string).
  // The first call's reason counts; no effect once the request has ended.
  void cancel(finish_reason reason = finish_reason::cancelled);
  // Called on the scheduler thread after tokens or the end are pushed (keep it short: e.g. post
  // to an io_context). Set it before the first take(); it may be called spuriously.
  void set_notify(std::function<void()> fn);

  // Scheduler side.
  bool push(const stream_token& t);   // false when full (the sequence waits a step)
  void finish(finish_info info);
  bool full() const;
  bool cancel_requested() const { return cancel_.load(std::memory_order_acquire); }
  finish_reason cancel_reason() const;
  // The scheduler to wake on cancel() and when take() makes room in a full channel.
  void set_wakeup(std::shared_ptr<scheduler_signal> signal);

  explicit request_stream(int32_t capacity) : capacity_(capacity) {}

 private:
  void notify();

  mutable std::mutex mutex_;
  std::deque<stream_token> tokens_;
  std::optional<finish_info> finished_;
  bool end_taken_ = false;
  std::function<void()> notify_;
  std::shared_ptr<scheduler_signal> wakeup_;
  int32_t capacity_;
  std::atomic<bool> cancel_{false};
  finish_reason cancel_reason_ = finish_reason::cancelled;  // guarded by mutex_
};

enum class submit_error_kind { invalid, too_long, queue_full, stopped };
struct submit_error {
  submit_error_kind kind;
  std::string message;                // e.g. "prompt of 5000 tokens exceeds max_model_len 4096"
};

// What /load reports and the gateway routes on.
struct load_info {
  int32_t running = 0;
  int32_t waiting = 0;
  int64_t kv_blocks_total = 0;
  int64_t kv_blocks_free = 0;         // not referenced by any sequence (includes cached)
  int64_t kv_blocks_cached = 0;       // free but holding a hashed prefix block
  int32_t block_size = 16;
  uint64_t hash_seed = 0;
  double prefill_tokens_per_s = 0;    // recent (last ~10 s of steps)
  double decode_tokens_per_s = 0;
  int32_t max_model_len = 0;
  int32_t max_seqs = 0;
};

// Monotonic counters for /metrics (vLLM names in parentheses).
struct engine_counters {
  uint64_t prompt_tokens = 0;         // (vllm:prompt_tokens_total) prompt tokens admitted
  uint64_t generation_tokens = 0;     // (vllm:generation_tokens_total)
  uint64_t prefix_queries = 0;        // (vllm:prefix_cache_queries_total) prompt tokens looked up
  uint64_t prefix_hits = 0;           // (vllm:prefix_cache_hits_total) of those found cached
  uint64_t preemptions = 0;           // (vllm:num_preemptions_total)
  uint64_t steps = 0;
  uint64_t kv_evictions = 0;          // cached blocks reused for other content
  uint64_t prefill_tokens = 0;        // tokens computed as prompt chunks (incl. recomputation)
  uint64_t decode_tokens = 0;         // tokens computed one per step for a running stream
};

class scheduler {
 public:
  // The model must outlive the scheduler. Allocates the KV pool and starts the scheduler thread.
  // Throws std::invalid_argument on a bad config: block_size, max_seqs, max_waiting or
  // channel_capacity < 1, step_tokens < max_seqs, kv_type not f16/f32, or a pool smaller than one
  // max_model_len sequence (with max_model_len 0 it is capped to the pool instead). hash_seed 0:
  // the model's tokenizer fingerprint (config().hash_seed then holds the one in use).
  scheduler(const model& m, const scheduler_config& cfg);
  ~scheduler();  // stops the thread; requests still running finish with reason `error`
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  // Queues a request. Errors: invalid (empty prompt, token id out of range), too_long (prompt +
  // max_tokens can never fit: > max_model_len or > the whole pool), queue_full, stopped.
  struct submitted {
    std::shared_ptr<request_stream> stream;
    std::optional<submit_error> error;
  };
  submitted submit(generation_request req);

  load_info load() const;
  engine_counters counters() const;
  // The configuration in use: kv_blocks, kv_memory_bytes (whole blocks), max_model_len and
  // hash_seed resolved.
  const scheduler_config& config() const { return cfg_; }
  int32_t max_model_len() const { return max_model_len_; }
  kv_event_feed& kv_events() { return *events_; }
  std::string_view backend_name() const;
  const std::string& backend_device() const { return cfg_.backend.device; }

  // Stops accepting; lets queued and running requests finish (or cancels them when `cancel`), then
  // joins the thread. Blocks until then; safe to call more than once.
  void stop(bool cancel = false);

 private:
  void run();  // the scheduler thread
  void publish_stats(bool stepped);
  void fail_all(const std::string& message) noexcept;

  const model& model_;
  scheduler_config cfg_;
  int32_t max_model_len_ = 0;
  int64_t n_vocab_ = 0;
  std::unique_ptr<kv_event_feed> events_;
  std::unique_ptr<scheduler_core> core_;  // the scheduler thread's state: KV pool, forward, sequences
  std::shared_ptr<scheduler_signal> signal_;
  // Submission queue and stop flags (guarded by mutex_); the thread is woken through signal_.
  mutable std::mutex mutex_;
  std::deque<std::unique_ptr<scheduler_sequence>> incoming_;
  bool stopping_ = false;
  bool cancel_all_ = false;
  bool abort_ = false;  // the destructor: finish everything with reason error
  // Published by the scheduler thread for load()/counters().
  struct rate_sample {
    steady_clock::time_point at;
    int64_t prefill_tokens, decode_tokens;
  };
  mutable std::mutex stats_mutex_;
  load_info load_;
  engine_counters counters_;
  std::deque<rate_sample> rates_;  // the last ~10 s of steps
  steady_clock::time_point started_;
  std::mutex join_mutex_;
  std::thread thread_;
};

}  // namespace laneway::engine
