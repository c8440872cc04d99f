// A simulated inference node: continuous batching approximated step by step as the laneway
// worker schedules (admit FIFO while a sequence slot and KV blocks allow; each step decodes one
// token for every running sequence and then prefills up to `prefill_chunk` prompt tokens), a
// step costing base + decoding sequences × per-token cost + prompt tokens / prefill rate, and
// the prefix-caching KV cache of sim_kv_cache.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "routing/node_state.hpp"
#include "routing/sim/sim_kv_cache.hpp"
#include "routing/sim/workload.hpp"

namespace laneway::routing::sim {

struct node_model {
  std::size_t kv_blocks = 2048;          // KV pool in blocks (32k tokens at 16 per block)
  std::size_t block_size = 16;           // tokens per block
  int max_seqs = 8;                      // sequence slots
  double prefill_tokens_per_s = 3000;    // cost of prompt tokens
  double step_base_s = 0.008;            // fixed cost of a step
  double decode_token_s = 0.001;         // cost per decoding sequence per step
  std::size_t prefill_chunk = 512;       // prompt tokens per step at most
};

// What the end of a step tells the gateway.
struct step_event {
  std::size_t request;                   // index in the workload
  bool first_token;                      // true: its first token; false: it finished
};

class sim_node {
 public:
  explicit sim_node(const node_model& model) : model_(model), cache_(model.kv_blocks) {}

  // A request arrives (hashes: full blocks of prompt + answer, the worker's chain).
  void enqueue(std::size_t request, const sim_request& r, const std::vector<block_hash>& hashes);
  bool idle() const { return running_.empty() && waiting_.empty(); }
  // Starts a step at `now`: admits what fits, plans the batch; returns the step's duration.
  double begin_step(double now);
  // Ends the planned step at `now`: progress, block commits, finished sequences released.
  void end_step(double now, std::vector<step_event>& events);

  // What GET /load would say now (rates over the last 10 s).
  node_load report(double now) const;
  const sim_kv_cache& cache() const { return cache_; }
  sim_kv_cache& cache() { return cache_; }
  std::int64_t prompt_tokens() const { return prompt_tokens_; }   // of admitted requests
  std::int64_t cached_tokens() const { return cached_tokens_; }   // of those, found in the cache

 private:
  struct sequence {
    std::size_t request;
    std::int64_t prompt_len;
    int output_tokens;
    const std::vector<block_hash>* hashes;  // prompt + answer full blocks
    std::int64_t prefilled = 0;             // prompt tokens computed (cached ones included)
    int generated = 0;                      // answer tokens sampled
    std::size_t committed = 0;              // leading blocks hashed or attached
    std::vector<block_hash> held;           // hashed blocks referenced, in order
    std::size_t private_blocks = 0;
    std::int64_t chunk = 0;                 // prompt tokens planned in this step
    bool decoding = false;                  // planned to decode in this step
  };
  struct rate_sample {
    double at;
    std::int64_t prefill, decode;
  };
  bool try_admit(double now);
  void commit_blocks(sequence& s, std::size_t upto);

  node_model model_;
  sim_kv_cache cache_;
  std::deque<sequence> waiting_;
  std::vector<sequence> running_;
  std::deque<rate_sample> rates_;
  std::int64_t prompt_tokens_ = 0, cached_tokens_ = 0;
  std::int64_t step_prefill_ = 0, step_decode_ = 0;
};

}  // namespace laneway::routing::sim
