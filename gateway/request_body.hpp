// What the gateway reads from an inference request body to route and admit it: model and stream
// (type-checked, 400 naming the field), and, for routing only, the prompt (chat messages or
// completion prompt), max_tokens and user. Parsed without exceptions; the body itself is
// forwarded untouched, and the node does the full validation of everything else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/error.hpp"

namespace laneway::gateway {

struct prompt_message {
  std::string role;  // "developer" is read as "system", as the worker does
  std::string content;
};

struct inference_fields {
  std::string model;
  bool stream = false;
  bool include_usage = false;               // stream_options.include_usage
  std::vector<prompt_message> messages;     // chat
  std::optional<std::string> prompt_text;   // completions: a string or [string]
  std::vector<std::int32_t> prompt_tokens;  // completions: token ids
  std::int64_t max_tokens = -1;             // max_tokens / max_completion_tokens; -1 when absent
  std::string user;                         // OpenAI `user`: a session key for stickiness

  // The prompt as bytes, for nodes whose tokenizer the gateway does not know (byte blocks):
  // "role\ncontent\n" per message, or the prompt text.
  std::string prompt_bytes() const;
  // Characters of prompt text (a token estimate before tokenizing: ~4 bytes per token).
  std::size_t prompt_size() const;
};

// Type-checks the fields routing needs; errors name the field.
http::result<inference_fields> read_inference_fields(std::string_view body);

}  // namespace laneway::gateway
