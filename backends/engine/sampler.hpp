// Token sampling for one request: OpenAI/vLLM-style parameters (temperature, top_k, top_p, min_p,
// seed, presence/frequency/repetition penalties, max_tokens, logprobs/top_logprobs), validated up
// front, then one `sampler` per request that turns each step's logits into a token.
// The pipeline and its cost are described at the top of sampler.cpp and in docs/sampling.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "backends/engine/sampler_rng.hpp"

namespace laneway::engine {

struct sampling_params {
  float temperature = 1.0f;         // [0, 2]; 0 = greedy (argmax after penalties)
  int32_t top_k = 0;                // >= -1; 0 or -1 = off
  float top_p = 1.0f;               // (0, 1]; 1 = off
  float min_p = 0.0f;               // [0, 1]; 0 = off
  std::optional<uint64_t> seed;     // same seed + same logits -> same tokens; none = random
  float presence_penalty = 0.0f;    // [-2, 2], OpenAI: over generated tokens
  float frequency_penalty = 0.0f;   // [-2, 2], OpenAI: over generated tokens
  float repetition_penalty = 1.0f;  // > 0 (<= 10 checked), HF/llama.cpp: over prompt + generated
  int32_t repetition_last_n = -1;   // window of the repetition penalty: -1 = all, 0 = off, N
  std::optional<int32_t> max_tokens;  // >= 1; none = until end of generation / context
  bool logprobs = false;            // return the chosen token's log-probability
  int32_t top_logprobs = 0;         // [0, 20] alternatives per token (needs logprobs)
};

constexpr int32_t max_top_logprobs = 20;

// A rejected parameter: `field` is its OpenAI request name ("top_p"), `message` says what was
// wrong and what is allowed ("top_p must be in (0, 1], got 1.5").
struct sampling_param_error {
  std::string field;
  std::string message;
};
std::optional<sampling_param_error> validate(const sampling_params& p);

struct token_logprob {
  int32_t token = -1;
  float logprob = 0.0f;
};

// One sampled token. `logprob` and `top` are log-softmax values of the model's unmodified logits
// (before penalties and temperature, as OpenAI reports them); set only when params.logprobs.
struct sampled_token {
  int32_t token = -1;
  float logprob = 0.0f;
  std::array<token_logprob, max_top_logprobs> top{};  // best first, ties by lower token id
  int32_t n_top = 0;                                  // valid entries of `top`
  std::span<const token_logprob> top_logprobs() const { return {top.data(), static_cast<std::size_t>(n_top)}; }
};

// Per-request sampling state. Buffers are sized for the vocabulary once; steady-state sampling
// allocates nothing (the token history grows, amortized). Not thread-safe: one per sequence.
class sampler {
 public:
  // Precondition: validate(params) returned nothing. n_vocab: the length of every logits row.
  sampler(const sampling_params& params, int32_t n_vocab);

  // The prompt's tokens, for the repetition penalty (which sees prompt + generation).
  void accept_prompt(std::span<const int32_t> prompt);

  // Chooses the next token from `logits` ([n_vocab], not modified) and records it as generated.
  sampled_token sample(std::span<const float> logits);

  // Records a token that was generated without sample() (forced / replayed), for the penalties.
  void accept(int32_t token);

  // Step 1 of the pipeline alone, in place on a [n_vocab] row (sample() does it on a copy).
  void apply_penalties(std::span<float> logits) const;

  int32_t n_generated() const { return n_generated_; }
  // True once max_tokens tokens were generated: the caller finishes with reason "length".
  bool reached_max_tokens() const { return params_.max_tokens && n_generated_ >= *params_.max_tokens; }
  const sampling_params& params() const { return params_; }
  uint64_t seed() const { return seed_; }  // the one in use (drawn at random when none was given)

 private:
  struct candidate {
    float logit;  // after penalties and temperature
    float p;      // exp(logit - max), unnormalized
    int32_t id;
  };

  int32_t choose(const float* logits);                  // temperature .. sample
  std::size_t select_top_k(const float* scaled, float max_logit);  // -> cand_, sorted
  std::size_t select_top_p(float max_logit, double total, float floor);  // -> cand_
  static bool better(const candidate& a, const candidate& b) {     // total order, best first
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  }
  static constexpr int n_buckets = 1024;
  static constexpr float bucket_range = 20.0f;  // in logits below the max; e^-20 ~ 2e-9
  void fill_logprobs(std::span<const float> logits, sampled_token& out) const;

  sampling_params params_;
  int32_t n_vocab_;
  uint64_t seed_;
  xoshiro256ss rng_;

  std::vector<float> work_;           // [n_vocab] logits after penalties
  std::vector<float> scaled_;         // [n_vocab] after temperature
  std::vector<float> prob_;           // [n_vocab] exp(scaled - max), unnormalized
  std::vector<candidate> cand_;       // [n_vocab] capacity: the kept tokens come first
  std::vector<candidate> cross_;      // [n_vocab] capacity: top_p's boundary bucket
  std::vector<double> bucket_sum_;    // [n_buckets]
  std::vector<uint16_t> bucket_of_;   // [n_vocab] top_p bucket of each token
  std::vector<double> block_sum_;     // [ceil(n_vocab / 64)] sums of prob_ per 64 tokens
  std::vector<int32_t> counts_;       // [n_vocab] times generated
  std::vector<int32_t> generated_;    // distinct generated tokens (keys of counts_ > 0)
  std::vector<int32_t> history_;      // prompt + generated, in order
  std::vector<uint8_t> in_history_;   // [n_vocab] 1 if in history_ (whole-history penalty)
  std::vector<int32_t> history_set_;  // distinct tokens of history_
  mutable std::vector<uint32_t> stamp_;  // [n_vocab] dedup marks for the windowed penalty
  mutable uint32_t epoch_ = 0;
  int32_t n_generated_ = 0;
};

}  // namespace laneway::engine
