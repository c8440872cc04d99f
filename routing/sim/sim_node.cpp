// Stepping the simulated node: FIFO admission by slots and KV blocks, the step plan and cost,
// then progress and block commits at the step's end.
#include "routing/sim/sim_node.hpp"

#include <algorithm>

namespace laneway::routing::sim {

void sim_node::enqueue(std::size_t request, const sim_request& r, const std::vector<block_hash>& hashes) {
  sequence s;
  s.request = request;
  s.prompt_len = std::int64_t(r.prompt.size());
  s.output_tokens = std::max(r.output_tokens, 1);
  s.hashes = &hashes;
  waiting_.push_back(std::move(s));
}

bool sim_node::try_admit(double) {
  if (waiting_.empty() || int(running_.size()) >= model_.max_seqs) return false;
  sequence& s = waiting_.front();
  const std::size_t b = model_.block_size;
  // Never the last prompt token's block: its logits must be computed (docs/kv-cache.md).
  const std::size_t limit = std::size_t(s.prompt_len - 1) / b;
  const std::size_t hits = cache_.leading(*s.hashes, limit);
  const std::size_t need = (std::size_t(s.prompt_len) + std::size_t(s.output_tokens) + b - 1) / b;
  if (!cache_.admit(*s.hashes, hits, need - hits)) return false;
  s.held.assign(s.hashes->begin(), s.hashes->begin() + std::ptrdiff_t(hits));
  s.committed = hits;
  s.private_blocks = need - hits;
  s.prefilled = std::int64_t(hits * b);
  prompt_tokens_ += s.prompt_len;
  cached_tokens_ += s.prefilled;
  running_.push_back(std::move(s));
  waiting_.pop_front();
  return true;
}

double sim_node::begin_step(double now) {
  while (try_admit(now)) {
  }
  std::int64_t budget = std::int64_t(model_.prefill_chunk);
  step_prefill_ = step_decode_ = 0;
  for (auto& s : running_) {
    s.decoding = s.generated > 0;
    if (s.decoding) ++step_decode_;
    s.chunk = 0;
    if (!s.decoding && budget > 0) {
      s.chunk = std::min(budget, s.prompt_len - s.prefilled);
      budget -= s.chunk;
      step_prefill_ += s.chunk;
    }
  }
  return model_.step_base_s + double(step_decode_) * model_.decode_token_s +
         double(step_prefill_) / model_.prefill_tokens_per_s;
}

void sim_node::commit_blocks(sequence& s, std::size_t upto) {
  for (; s.committed < upto && s.committed < s.hashes->size(); ++s.committed) {
    const block_hash h = (*s.hashes)[s.committed];
    if (cache_.commit(h)) {
      s.held.push_back(h);
      --s.private_blocks;
    }
  }
}

void sim_node::end_step(double now, std::vector<step_event>& events) {
  const std::size_t b = model_.block_size;
  for (auto& s : running_) {
    if (s.decoding) {
      ++s.generated;
    } else if (s.chunk > 0) {
      s.prefilled += s.chunk;
      commit_blocks(s, std::size_t(s.prefilled) / b);
      if (s.prefilled == s.prompt_len) {
        s.generated = 1;  // the step that ends the prompt samples the first token
        events.push_back({s.request, true});
      }
    }
  }
  for (auto it = running_.begin(); it != running_.end();) {
    if (it->generated < it->output_tokens) {
      ++it;
      continue;
    }
    // Finished: the answer's full blocks get their hashes too, then everything is released.
    commit_blocks(*it, std::size_t(it->prompt_len + it->output_tokens) / b);
    cache_.release(it->held, it->private_blocks);
    events.push_back({it->request, false});
    it = running_.erase(it);
  }
  rates_.push_back({now, step_prefill_, step_decode_});
  while (!rates_.empty() && now - rates_.front().at > 10.0) rates_.pop_front();
}

node_load sim_node::report(double now) const {
  node_load l;
  l.running = int(running_.size());
  l.waiting = int(waiting_.size());
  l.max_seqs = model_.max_seqs;
  l.kv_blocks_total = std::int64_t(cache_.total_blocks());
  l.kv_blocks_free = std::int64_t(cache_.free_blocks());
  l.block_size = int(model_.block_size);
  std::int64_t prefill = 0, decode = 0;
  for (const auto& r : rates_)
    if (now - r.at <= 10.0) {
      prefill += r.prefill;
      decode += r.decode;
    }
  const double span = std::clamp(now, 1e-3, 10.0);
  l.prefill_tokens_per_s = double(prefill) / span;
  l.decode_tokens_per_s = double(decode) / span;
  return l;
}

}  // namespace laneway::routing::sim
