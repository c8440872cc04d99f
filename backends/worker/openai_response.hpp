// The OpenAI response bodies the worker writes: chat.completion / text_completion objects, their
// streamed chunks (chat.completion.chunk with deltas; text_completion pieces), usage with
// prompt_tokens_details.cached_tokens, and logprobs in each endpoint's own shape (chat:
// content[{token, logprob, bytes, top_logprobs}]; completions: tokens / token_logprobs /
// top_logprobs / text_offset). Invalid UTF-8 in token pieces is replaced, never thrown on.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "backends/engine/sampler.hpp"
#include "backends/worker/openai_request.hpp"

namespace laneway::engine {
class tokenizer;
}

namespace laneway::worker {

struct usage_counts {
  int32_t prompt_tokens = 0;
  int32_t completion_tokens = 0;
  int32_t cached_tokens = 0;
};

// Log-probabilities of generated tokens, collected while streaming.
class logprob_log {
 public:
  logprob_log(const engine::tokenizer& tok, api_kind kind) : tok_(tok), kind_(kind) {}
  void add(const engine::sampled_token& t, std::size_t text_offset);
  bool empty() const { return n_ == 0; }
  // The "logprobs" value of a choice (chat or completion shape) for the tokens added since the
  // last take (so a stream sends each token once; a non-streamed response takes all at the end).
  nlohmann::json take();

 private:
  const engine::tokenizer& tok_;
  api_kind kind_;
  std::vector<engine::sampled_token> tokens_;
  std::vector<std::size_t> offsets_;
  std::size_t n_ = 0;
};

class response_builder {
 public:
  response_builder(api_kind kind, std::string id, std::string model, int64_t created);

  // Streaming: one "data: {...}\n\n" event each.
  std::string first_chunk() const;  // chat: the assistant role delta; completion: empty
  std::string delta_chunk(std::string_view text, const nlohmann::json* logprobs) const;
  std::string final_chunk(std::string_view finish_reason, const nlohmann::json* logprobs, std::string_view text = {}) const;
  std::string usage_chunk(const usage_counts& u) const;
  static std::string done_event() { return "data: [DONE]\n\n"; }

  // Non-streaming: the whole response object.
  std::string full(std::string_view text, std::string_view finish_reason, const usage_counts& u,
                   const nlohmann::json* logprobs) const;

  const std::string& id() const { return id_; }

 private:
  nlohmann::json envelope(bool chunk) const;
  api_kind kind_;
  std::string id_;
  std::string model_;
  int64_t created_;
};

nlohmann::json usage_json(const usage_counts& u);
// JSON text with invalid UTF-8 replaced by U+FFFD (never throws).
std::string dump_json(const nlohmann::json& j);
// 16 lowercase hex digits: how 64-bit hashes and seeds travel in JSON (numbers lose precision).
std::string hex64(uint64_t v);

}  // namespace laneway::worker
