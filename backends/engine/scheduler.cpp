// scheduler: the thread-safe face of the engine loop (scheduler.hpp). submit() validates and
// queues; the scheduler thread moves the queue into scheduler_core, runs steps while there is
// work, publishes load and counters after each, and sleeps on scheduler_signal when idle (poked
// by submit, cancel, a consumer making room in a full stream, and stop).
#include "backends/engine/scheduler.hpp"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

#include "backends/engine/model.hpp"
#include "backends/engine/paged_kv_cache.hpp"
#include "backends/engine/scheduler_core.hpp"
#include "backends/engine/vocab.hpp"

namespace laneway::engine {
namespace {

constexpr auto rate_window = std::chrono::seconds(10);
// The thread also wakes this often when idle: a safety net only, every event pokes it.
constexpr auto idle_wake = std::chrono::seconds(1);

void check_config(const scheduler_config& c) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("scheduler config: " + what); };
  if (c.block_size < 1) fail("block_size must be >= 1");
  if (c.max_seqs < 1) fail("max_seqs must be >= 1");
  if (c.step_tokens < c.max_seqs) {
    fail("step_tokens (" + std::to_string(c.step_tokens) + ") must be >= max_seqs (" + std::to_string(c.max_seqs) + ")");
  }
  if (c.max_waiting < 1) fail("max_waiting must be >= 1");
  if (c.channel_capacity < 1) fail("channel_capacity must be >= 1");
  if (c.kv_blocks < 0) fail("kv_blocks must be >= 0");
  if (c.kv_type != cpu::dtype::f16 && c.kv_type != cpu::dtype::f32) fail("kv_type must be f16 or f32");
  if (c.max_model_len < 0) fail("max_model_len must be >= 0");
}

submit_error refuse(submit_error_kind kind, std::string message) { return {kind, std::move(message)}; }

}  // namespace

scheduler::scheduler(const model& m, const scheduler_config& cfg)
    : model_(m),
      cfg_(cfg),
      n_vocab_(m.hparams().n_vocab),
      events_(std::make_unique<kv_event_feed>()),
      signal_(std::make_shared<scheduler_signal>()) {
  check_config(cfg_);
  const std::size_t block_bytes = paged_kv_cache::block_bytes(kv_layout_for(m, cfg_.kv_type), cfg_.block_size);
  if (cfg_.kv_blocks == 0) cfg_.kv_blocks = static_cast<int64_t>(cfg_.kv_memory_bytes / block_bytes);
  if (cfg_.kv_blocks < 1) {
    throw std::invalid_argument("scheduler config: kv memory of " + std::to_string(cfg_.kv_memory_bytes) +
                                " bytes holds no block of " + std::to_string(block_bytes) + " bytes");
  }
  cfg_.kv_memory_bytes = static_cast<uint64_t>(cfg_.kv_blocks) * block_bytes;
  const int64_t pool_tokens = cfg_.kv_blocks * cfg_.block_size;
  if (cfg_.max_model_len == 0) {
    const int64_t trained = m.hparams().n_ctx_train > 0 ? m.hparams().n_ctx_train : 2048;
    cfg_.max_model_len = static_cast<int32_t>(std::min<int64_t>({trained, pool_tokens, int64_t{1} << 30}));
  } else if (cfg_.max_model_len > pool_tokens) {
    throw std::invalid_argument("scheduler config: a KV pool of " + std::to_string(cfg_.kv_blocks) + " blocks (" +
                                std::to_string(pool_tokens) + " tokens) cannot hold one max_model_len (" +
                                std::to_string(cfg_.max_model_len) + ") sequence");
  }
  max_model_len_ = cfg_.max_model_len;
  const vocab v = load_vocab(m.file());
  if (cfg_.hash_seed == 0) cfg_.hash_seed = v.fingerprint;
  core_ = std::make_unique<scheduler_core>(m, cfg_, cfg_.kv_blocks, max_model_len_, v.eog, *events_);
  started_ = steady_clock::now();
  publish_stats(false);
  thread_ = std::thread([this] { run(); });
}

scheduler::~scheduler() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    abort_ = true;
  }
  signal_->poke();
  std::lock_guard lock(join_mutex_);
  if (thread_.joinable()) thread_.join();
}

void scheduler::stop(bool cancel) {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    cancel_all_ = cancel_all_ || cancel;
  }
  signal_->poke();
  std::lock_guard lock(join_mutex_);
  if (thread_.joinable()) thread_.join();
}

std::string_view scheduler::backend_name() const { return core_->forward().name(); }

scheduler::submitted scheduler::submit(generation_request req) {
  submitted out;
  const auto n_prompt = static_cast<int64_t>(req.prompt.size());
  if (req.prompt.empty()) {
    out.error = refuse(submit_error_kind::invalid, "the prompt has no tokens");
    return out;
  }
  for (std::size_t i = 0; i < req.prompt.size(); ++i) {
    if (req.prompt[i] < 0 || req.prompt[i] >= n_vocab_) {
      out.error = refuse(submit_error_kind::invalid, "prompt token " + std::to_string(req.prompt[i]) + " at position " +
                                                         std::to_string(i) + " is outside the vocabulary [0, " +
                                                         std::to_string(n_vocab_) + ")");
      return out;
    }
  }
  if (auto bad = validate(req.sampling)) {
    out.error = refuse(submit_error_kind::invalid, bad->message);
    return out;
  }
  if (n_prompt >= max_model_len_) {
    out.error = refuse(submit_error_kind::too_long, "prompt of " + std::to_string(n_prompt) +
                                                        " tokens leaves no room to generate within max_model_len " +
                                                        std::to_string(max_model_len_));
    return out;
  }
  if (req.sampling.max_tokens && n_prompt + *req.sampling.max_tokens > max_model_len_) {
    out.error = refuse(submit_error_kind::too_long,
                       "prompt of " + std::to_string(n_prompt) + " tokens + max_tokens " +
                           std::to_string(*req.sampling.max_tokens) + " exceeds max_model_len " +
                           std::to_string(max_model_len_));
    return out;
  }
  int32_t waiting_now = 0;
  {
    std::lock_guard lock(stats_mutex_);
    waiting_now = load_.waiting;
  }
  auto stream = std::make_shared<request_stream>(cfg_.channel_capacity);
  stream->set_wakeup(signal_);
  auto seq = std::make_unique<scheduler_sequence>(std::move(req), stream, static_cast<int32_t>(n_vocab_));
  seq->info.submitted = steady_clock::now();
  seq->info.prompt_tokens = static_cast<int32_t>(n_prompt);
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      out.error = refuse(submit_error_kind::stopped, "the engine is shutting down");
      return out;
    }
    if (static_cast<int64_t>(incoming_.size()) + waiting_now >= cfg_.max_waiting) {
      out.error = refuse(submit_error_kind::queue_full,
                         "the engine queue is full (" + std::to_string(cfg_.max_waiting) + " requests waiting)");
      return out;
    }
    incoming_.push_back(std::move(seq));
  }
  signal_->poke();
  out.stream = std::move(stream);
  return out;
}

void scheduler::run() {
  for (;;) {
    std::deque<std::unique_ptr<scheduler_sequence>> incoming;
    bool stopping = false, cancel_all = false, abort = false;
    {
      std::lock_guard lock(mutex_);
      incoming.swap(incoming_);
      stopping = stopping_, cancel_all = cancel_all_, abort = abort_;
    }
    bool worked = true, stepped = false;
    try {
      core_->enqueue(incoming);
      if (abort) core_->finish_all(finish_reason::error, "the engine was shut down");
      else if (cancel_all) core_->finish_all(finish_reason::cancelled, "");
      else stepped = worked = core_->step();
    } catch (const std::exception& e) {
      fail_all(std::string("engine step failed: ") + e.what());
    } catch (...) {
      fail_all("engine step failed");
    }
    publish_stats(stepped);
    if (stopping && core_->idle()) {
      std::lock_guard lock(mutex_);
      if (incoming_.empty()) return;  // submit() refuses from now on
    }
    if (!worked) {
      std::unique_lock lock(signal_->mutex);
      signal_->cv.wait_for(lock, idle_wake, [this] { return signal_->poked; });
      signal_->poked = false;
    }
  }
}

// Nothing may escape the thread: a step that threw ends every request it holds.
void scheduler::fail_all(const std::string& message) noexcept {
  try {
    core_->finish_all(finish_reason::error, message);
  } catch (...) {
    // finishing allocates; out of memory here leaves the streams to the destructor's abort
  }
}

void scheduler::publish_stats(bool stepped) {
  load_info l;
  l.running = core_->n_running();
  l.waiting = core_->n_waiting();
  const kv_block_counts blocks = core_->blocks();
  l.kv_blocks_total = blocks.total;
  l.kv_blocks_free = blocks.free;
  l.kv_blocks_cached = blocks.cached;
  l.block_size = cfg_.block_size;
  l.hash_seed = cfg_.hash_seed;
  l.max_model_len = max_model_len_;
  l.max_seqs = cfg_.max_seqs;
  const steady_clock::time_point now = steady_clock::now();
  std::lock_guard lock(stats_mutex_);
  load_ = l;
  counters_ = core_->counters();
  if (stepped) {
    rates_.push_back({now, core_->last_prefill_tokens(), core_->last_decode_tokens()});
  }
  while (!rates_.empty() && now - rates_.front().at > rate_window) rates_.pop_front();
}

load_info scheduler::load() const {
  load_info l;
  const steady_clock::time_point now = steady_clock::now();
  {
    std::lock_guard lock(stats_mutex_);
    l = load_;
    int64_t prefill = 0, decode = 0;
    for (const rate_sample& r : rates_) {
      if (now - r.at > rate_window) continue;
      prefill += r.prefill_tokens;
      decode += r.decode_tokens;
    }
    // Over the window, or the time since start when that is shorter.
    const double span = std::chrono::duration<double>(std::min<steady_clock::duration>(now - started_, rate_window)).count();
    if (span > 0) {
      l.prefill_tokens_per_s = static_cast<double>(prefill) / span;
      l.decode_tokens_per_s = static_cast<double>(decode) / span;
    }
  }
  std::lock_guard lock(mutex_);
  l.waiting += static_cast<int32_t>(incoming_.size());
  return l;
}

engine_counters scheduler::counters() const {
  std::lock_guard lock(stats_mutex_);
  return counters_;
}

}  // namespace laneway::engine
