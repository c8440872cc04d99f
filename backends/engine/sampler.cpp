// The sampling pipeline, applied to one logits row per step (docs/sampling.md has the user view):
//
//   1. penalties   repetition_penalty (HF / llama.cpp): every distinct token of prompt + generated
//                  text (or of its last repetition_last_n tokens) gets logit / r if the logit is
//                  positive, logit * r otherwise. Then presence / frequency (OpenAI, generated
//                  tokens only): logit -= count * frequency_penalty + (count > 0) * presence_penalty.
//   2. temperature 0 -> greedy: the argmax (lowest id on ties) of the penalized logits, done.
//                  Otherwise logits / temperature. top_k == 1 is greedy too.
//   3. top_k       keep the k best: a k-element heap over the row (one compare per token on
//                  typical rows, O(vocab log k) at worst), then only those k are sorted.
//   4. top_p       keep the smallest best-first set whose probability reaches top_p, normalized
//                  over what top_k left. After top_k: a scan of the sorted k. Without top_k, no
//                  sort of the row: tokens are bucketed by max - logit (1024 buckets over 20 nats),
//                  whole buckets are kept while the running sum stays under top_p, and only the
//                  bucket where it crosses is sorted.
//   5. min_p       keep tokens with p >= min_p * p_max (p_max is never removed by 3 or 4, so this
//                  is a threshold on exp(logit - max)). With top_p on, tokens under the threshold
//                  are skipped before the boundary bucket is sorted: they would come last in it and
//                  be dropped anyway, so the result is that of running 4 then 5.
//   6. sample      one uniform draw from xoshiro256** over the kept tokens, in a canonical order
//                  (top_k: best first; top_p: the whole buckets' tokens by id, then the boundary
//                  bucket's best first; otherwise by id), so a seed gives the same tokens with
//                  any standard library.
//
// Log-probs are reported for the unmodified logits (log-softmax before 1 and 2), as OpenAI does;
// top_logprobs keeps the best N in one pass with an insertion array (N <= 20).
// Cost per step (sampler_math.hpp has the row kernels): a copy of the logits when a penalty is
// on; greedy: one argmax; otherwise one vectorized pass to scale, one to exponentiate (with per-64
// block sums so the draw skips whole blocks), plus the filters above. Nothing is allocated after
// construction except the token history growing.
#include "backends/engine/sampler.hpp"

#include "backends/engine/sampler_math.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>

namespace laneway::engine {

namespace {

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

sampling_param_error err(const char* field, std::string message) { return {field, std::move(message)}; }

bool in_range(float v, float lo, float hi) { return v >= lo && v <= hi; }  // false for NaN

}  // namespace

std::optional<sampling_param_error> validate(const sampling_params& p) {
  if (!in_range(p.temperature, 0.0f, 2.0f))
    return err("temperature", "temperature must be in [0, 2], got " + fmt(p.temperature));
  if (p.top_k < -1)
    return err("top_k", "top_k must be -1 or 0 (off) or a positive number of tokens, got " + std::to_string(p.top_k));
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f))
    return err("top_p", "top_p must be in (0, 1], got " + fmt(p.top_p));
  if (!in_range(p.min_p, 0.0f, 1.0f)) return err("min_p", "min_p must be in [0, 1], got " + fmt(p.min_p));
  if (!in_range(p.presence_penalty, -2.0f, 2.0f))
    return err("presence_penalty", "presence_penalty must be in [-2, 2], got " + fmt(p.presence_penalty));
  if (!in_range(p.frequency_penalty, -2.0f, 2.0f))
    return err("frequency_penalty", "frequency_penalty must be in [-2, 2], got " + fmt(p.frequency_penalty));
  if (!(p.repetition_penalty > 0.0f && std::isfinite(p.repetition_penalty)))
    return err("repetition_penalty", "repetition_penalty must be a number > 0 (1 = off), got " + fmt(p.repetition_penalty));
  if (p.repetition_last_n < -1)
    return err("repetition_last_n",
               "repetition_last_n must be -1 (all tokens), 0 (off) or a window size, got " +
                   std::to_string(p.repetition_last_n));
  if (p.max_tokens && *p.max_tokens < 1)
    return err("max_tokens", "max_tokens must be >= 1, got " + std::to_string(*p.max_tokens));
  if (p.top_logprobs < 0 || p.top_logprobs > max_top_logprobs)
    return err("top_logprobs", "top_logprobs must be in [0, 20], got " + std::to_string(p.top_logprobs));
  if (p.top_logprobs > 0 && !p.logprobs)
    return err("top_logprobs", "top_logprobs needs logprobs to be true");
  return std::nullopt;
}

sampler::sampler(const sampling_params& params, int32_t n_vocab)
    : params_(params),
      n_vocab_(n_vocab),
      seed_(params.seed ? *params.seed : (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}()),
      rng_(seed_) {
  if (n_vocab <= 0) throw std::invalid_argument("sampler: n_vocab must be positive");
  const auto n = static_cast<std::size_t>(n_vocab);
  work_.resize(n);
  scaled_.resize(n);
  prob_.resize(n);
  block_sum_.resize((n + 63) / 64);
  cand_.resize(n);
  if (params_.top_p < 1.0f) {
    cross_.resize(n);
    bucket_of_.resize(n);
    bucket_sum_.resize(n_buckets);
  }
  counts_.assign(n, 0);
  in_history_.assign(n, 0);
  if (params_.repetition_last_n > 0) stamp_.assign(n, 0);
  if (params_.max_tokens) history_.reserve(static_cast<std::size_t>(*params_.max_tokens));
}

void sampler::accept_prompt(std::span<const int32_t> prompt) {
  history_.reserve(history_.size() + prompt.size());
  for (const int32_t t : prompt) {
    if (t < 0 || t >= n_vocab_) continue;  // not a token of this vocabulary: nothing to penalize
    history_.push_back(t);
    if (!in_history_[t]) {
      in_history_[t] = 1;
      history_set_.push_back(t);
    }
  }
}

void sampler::accept(int32_t token) {
  ++n_generated_;
  if (token < 0 || token >= n_vocab_) return;
  history_.push_back(token);
  if (!in_history_[token]) {
    in_history_[token] = 1;
    history_set_.push_back(token);
  }
  if (counts_[token]++ == 0) generated_.push_back(token);
}

void sampler::apply_penalties(std::span<float> logits) const {
  if (logits.size() != static_cast<std::size_t>(n_vocab_))
    throw std::invalid_argument("sampler: logits row has " + std::to_string(logits.size()) +
                                " entries, the vocabulary " + std::to_string(n_vocab_));
  const float r = params_.repetition_penalty;
  auto repeat = [&](int32_t t) { logits[t] = logits[t] > 0 ? logits[t] / r : logits[t] * r; };
  if (r != 1.0f) {
    if (params_.repetition_last_n < 0) {
      for (const int32_t t : history_set_) repeat(t);
    } else if (params_.repetition_last_n > 0) {
      if (++epoch_ == 0) {  // wrapped: forget the old marks
        std::fill(stamp_.begin(), stamp_.end(), 0u);
        epoch_ = 1;
      }
      const std::size_t n = std::min(history_.size(), static_cast<std::size_t>(params_.repetition_last_n));
      for (std::size_t i = history_.size() - n; i < history_.size(); ++i) {
        const int32_t t = history_[i];
        if (stamp_[t] != epoch_) {
          stamp_[t] = epoch_;
          repeat(t);
        }
      }
    }
  }
  if (params_.frequency_penalty != 0.0f || params_.presence_penalty != 0.0f) {
    for (const int32_t t : generated_)
      logits[t] -= static_cast<float>(counts_[t]) * params_.frequency_penalty + params_.presence_penalty;
  }
}

sampled_token sampler::sample(std::span<const float> logits) {
  if (logits.size() != static_cast<std::size_t>(n_vocab_))
    throw std::invalid_argument("sampler: logits row has " + std::to_string(logits.size()) +
                                " entries, the vocabulary " + std::to_string(n_vocab_));
  const bool penalize = params_.presence_penalty != 0.0f || params_.frequency_penalty != 0.0f ||
                        (params_.repetition_penalty != 1.0f && params_.repetition_last_n != 0);
  const float* l = logits.data();
  if (penalize) {
    std::memcpy(work_.data(), logits.data(), logits.size() * sizeof(float));
    apply_penalties(work_);
    l = work_.data();
  }
  sampled_token out;
  out.token = choose(l);
  if (params_.logprobs) fill_logprobs(logits, out);
  accept(out.token);
  return out;
}

using namespace sampler_math;

int32_t sampler::choose(const float* l) {
  if (params_.temperature == 0.0f || params_.top_k == 1) return argmax(l, n_vocab_);

  // Temperature; NaN counts as -inf. s: [n_vocab] scaled logits.
  const float inv_t = 1.0f / params_.temperature;
  float* s = scaled_.data();
  const float max_logit = scale_row(l, s, inv_t, n_vocab_);
  if (max_logit == neg_inf) return 0;  // nothing is possible

  const float floor = params_.min_p;  // min_p as a threshold on p = exp(s - max): p_max is 1
  std::size_t n = 0;                  // kept tokens, in cand_[0, n)
  if (params_.top_k > 0 && params_.top_k < n_vocab_) {
    n = select_top_k(s, max_logit);  // sorted best first, p filled
    double total = 0.0;
    for (std::size_t i = 0; i < n; ++i) total += cand_[i].p;
    if (params_.top_p < 1.0f) {
      const double target = static_cast<double>(params_.top_p) * total;
      double cum = 0.0;
      for (std::size_t i = 0; i < n; ++i)
        if ((cum += cand_[i].p) >= target) {
          n = i + 1;
          break;
        }
    }
    if (floor > 0.0f) {
      std::size_t kept = 0;
      for (std::size_t i = 0; i < n; ++i)
        if (cand_[i].p >= floor) cand_[kept++] = cand_[i];
      n = kept;
    }
  } else {
    float* p = prob_.data();
    const double total = exp_row(s, p, block_sum_.data(), max_logit, n_vocab_);
    if (params_.top_p < 1.0f) {
      n = select_top_p(max_logit, total, floor);
    } else if (floor > 0.0f) {
      for (int32_t i = 0; i < n_vocab_; ++i)
        if (p[i] >= floor) cand_[n++] = {s[i], p[i], i};
    } else {  // nothing filtered: draw over the whole row in id order, block sums first
      const double u = rng_.uniform() * total;
      double acc = 0.0;
      for (std::size_t b = 0; b < block_sum_.size(); ++b) {
        if (acc + block_sum_[b] <= u) {
          acc += block_sum_[b];
          continue;
        }
        const int32_t end = std::min(n_vocab_, static_cast<int32_t>(b * 64 + 64));
        for (int32_t i = static_cast<int32_t>(b * 64); i < end; ++i)
          if ((acc += p[i]) > u) return i;
      }
      return argmax(p, n_vocab_);  // rounding: u landed on the very end
    }
  }
  double kept_total = 0.0;
  for (std::size_t i = 0; i < n; ++i) kept_total += cand_[i].p;
  const double u = rng_.uniform() * kept_total;
  double acc = 0.0;
  for (std::size_t i = 0; i < n; ++i)
    if ((acc += cand_[i].p) > u) return cand_[i].id;
  return cand_[0].id;  // rounding: u landed on the very end; the best is always kept
}

std::size_t sampler::select_top_k(const float* s, float max_logit) {
  // A heap of the k best seen so far with the worst on top: O(vocab) compares on typical rows,
  // O(vocab log k) at worst. The kept set is unique (ties broken by id), then sorted.
  const auto k = static_cast<std::size_t>(params_.top_k);
  const auto first = cand_.begin();
  const auto heap_end = first + static_cast<std::ptrdiff_t>(k);
  std::size_t h = 0;
  for (int32_t i = 0; i < n_vocab_; ++i) {
    const candidate c{s[i], 0.0f, i};
    if (h < k) {
      cand_[h++] = c;
      std::push_heap(first, first + static_cast<std::ptrdiff_t>(h), better);
    } else if (better(c, cand_[0])) {
      std::pop_heap(first, heap_end, better);
      cand_[k - 1] = c;
      std::push_heap(first, heap_end, better);
    }
  }
  std::sort(first, heap_end, better);
  for (std::size_t i = 0; i < k; ++i) cand_[i].p = exp_nonpositive(cand_[i].logit - max_logit);
  return k;
}

std::size_t sampler::select_top_p(float max_logit, double total, float floor) {
  // Bucket the tokens by max - s (n_buckets over [0, bucket_range), the rest in the last one):
  // a lower bucket means a strictly larger logit. The buckets before the one where the running sum
  // reaches top_p * total are kept whole; only that bucket is sorted (its tokens >= floor only:
  // min_p drops the others anyway, and they would come last in it).
  const float* s = scaled_.data();
  const float* p = prob_.data();
  uint16_t* bucket = bucket_of_.data();  // [n_vocab]
  const float per_logit = n_buckets / bucket_range;
  std::fill(bucket_sum_.begin(), bucket_sum_.end(), 0.0);
  for (int32_t i = 0; i < n_vocab_; ++i) {
    const float d = max_logit - s[i];
    const int b = d < bucket_range ? static_cast<int>(d * per_logit) : n_buckets - 1;
    bucket[i] = static_cast<uint16_t>(b);
    bucket_sum_[static_cast<std::size_t>(b)] += p[i];
  }
  const double target = static_cast<double>(params_.top_p) * total;
  double cum = 0.0;
  int c = 0;
  for (; c < n_buckets - 1; ++c) {
    if (cum + bucket_sum_[static_cast<std::size_t>(c)] >= target) break;
    cum += bucket_sum_[static_cast<std::size_t>(c)];
  }
  std::size_t n = 0, n_cross = 0;
  for (int32_t i = 0; i < n_vocab_; ++i) {
    if (bucket[i] > c || p[i] < floor) continue;
    if (bucket[i] < c)
      cand_[n++] = {s[i], p[i], i};
    else
      cross_[n_cross++] = {s[i], p[i], i};
  }
  std::sort(cross_.begin(), cross_.begin() + static_cast<std::ptrdiff_t>(n_cross), better);
  for (std::size_t j = 0; j < n_cross; ++j) {
    cand_[n++] = cross_[j];
    if ((cum += cross_[j].p) >= target) break;
  }
  return n;
}

void sampler::fill_logprobs(std::span<const float> logits, sampled_token& out) const {
  float max_logit = -std::numeric_limits<float>::infinity();
  for (const float v : logits)
    if (v > max_logit) max_logit = v;
  const double sum = sum_exp(logits.data(), max_logit, n_vocab_);
  const double lse = static_cast<double>(max_logit) + std::log(sum);
  out.logprob = static_cast<float>(static_cast<double>(logits[out.token]) - lse);

  const int32_t k = params_.top_logprobs;
  int32_t n = 0;
  for (int32_t i = 0; i < n_vocab_ && k > 0; ++i) {
    const float v = logits[i];
    if (std::isnan(v) || (n == k && !(v > out.top[n - 1].logprob))) continue;
    int32_t j = n < k ? n++ : k - 1;  // insertion point, shifting worse entries down
    while (j > 0 && out.top[j - 1].logprob < v) {
      out.top[j] = out.top[j - 1];
      --j;
    }
    out.top[j] = {i, v};
  }
  for (int32_t j = 0; j < n; ++j)
    out.top[j].logprob = static_cast<float>(static_cast<double>(out.top[j].logprob) - lse);
  out.n_top = n;
}

}  // namespace laneway::engine
