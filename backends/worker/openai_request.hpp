// The OpenAI request bodies the worker serves (POST /v1/chat/completions, /v1/completions),
// parsed without exceptions and checked field by field: a wrong type, a value out of range, an
// unsupported feature or an unknown field is a 400 naming the field (OpenAI's own behaviour for
// unknown fields: "Unrecognized request argument supplied: X"). vLLM/llama.cpp extensions are
// accepted: top_k, min_p, repetition_penalty, ignore_eos, stop_token_ids.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/engine/chat_template.hpp"
#include "backends/engine/sampler.hpp"
#include "gateway/http/error.hpp"

namespace laneway::worker {

enum class api_kind { chat, completion };

struct completion_request {
  api_kind kind = api_kind::chat;
  std::string model;                               // may be empty (the served model)
  std::vector<engine::chat_message> messages;      // chat
  std::optional<std::string> prompt_text;          // completion: "prompt" as a string
  std::vector<int32_t> prompt_tokens;              // completion: "prompt" as token ids
  bool stream = false;
  bool include_usage = false;                      // stream_options.include_usage
  engine::sampling_params sampling;                // max_tokens, temperature, logprobs, ...
  std::vector<std::string> stop;
  std::vector<int32_t> stop_token_ids;
  bool ignore_eos = false;
  bool echo = false;                               // completion: prompt text before the completion
  std::string user;
};

// A 400 (bad_request, naming the field) for any problem; top_logprobs / logprobs are at most 20.
http::result<completion_request> parse_chat_request(std::string_view body);
http::result<completion_request> parse_completion_request(std::string_view body);

// POST /tokenize {"prompt": "...", "add_special_tokens": true} or {"messages": [...]} and
// POST /detokenize {"tokens": [...]}.
struct tokenize_request {
  std::optional<std::string> prompt;
  std::vector<engine::chat_message> messages;
  bool add_special_tokens = true;
  bool add_generation_prompt = true;
};
http::result<tokenize_request> parse_tokenize_request(std::string_view body);
http::result<std::vector<int32_t>> parse_detokenize_request(std::string_view body);

}  // namespace laneway::worker
