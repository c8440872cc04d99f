// OpenAI response bodies (see openai_response.hpp).
#include "backends/worker/openai_response.hpp"

#include <nlohmann/json.hpp>

#include "backends/engine/tokenizer.hpp"

namespace laneway::worker {

using json = nlohmann::json;

std::string dump_json(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

json usage_json(const usage_counts& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

namespace {

json bytes_of(const std::string& s) {
  json b = json::array();
  for (unsigned char c : s) b.push_back(static_cast<int>(c));
  return b;
}

// A piece as JSON-safe text: invalid UTF-8 is replaced when dumped, so keep the raw bytes here.
json chat_entry(const engine::tokenizer& tok, int32_t id, float lp) {
  std::string piece = tok.piece(id, true);
  return {{"token", piece}, {"logprob", lp}, {"bytes", bytes_of(piece)}};
}

}  // namespace

void logprob_log::add(const engine::sampled_token& t, std::size_t text_offset) {
  tokens_.push_back(t);
  offsets_.push_back(text_offset);
  ++n_;
}

json logprob_log::take() {
  json out;
  if (kind_ == api_kind::chat) {
    json content = json::array();
    for (const auto& t : tokens_) {
      json e = chat_entry(tok_, t.token, t.logprob);
      json top = json::array();
      for (const auto& alt : t.top_logprobs()) top.push_back(chat_entry(tok_, alt.token, alt.logprob));
      e["top_logprobs"] = std::move(top);
      content.push_back(std::move(e));
    }
    out = {{"content", std::move(content)}};
  } else {
    json tokens = json::array(), lps = json::array(), tops = json::array(), offs = json::array();
    for (std::size_t i = 0; i < tokens_.size(); ++i) {
      const auto& t = tokens_[i];
      tokens.push_back(tok_.piece(t.token, true));
      lps.push_back(t.logprob);
      json top = json::object();
      for (const auto& alt : t.top_logprobs()) top[tok_.piece(alt.token, true)] = alt.logprob;
      tops.push_back(std::move(top));
      offs.push_back(offsets_[i]);
    }
    out = {{"tokens", std::move(tokens)}, {"token_logprobs", std::move(lps)}, {"top_logprobs", std::move(tops)},
           {"text_offset", std::move(offs)}};
  }
  tokens_.clear();
  offsets_.clear();
  return out;
}

response_builder::response_builder(api_kind kind, std::string id, std::string model, int64_t created)
    : kind_(kind), id_(std::move(id)), model_(std::move(model)), created_(created) {}

json response_builder::envelope(bool chunk) const {
  const char* object = kind_ == api_kind::chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion";
  return {{"id", id_}, {"object", object}, {"created", created_}, {"model", model_}};
}

std::string response_builder::first_chunk() const {
  if (kind_ != api_kind::chat) return {};
  json j = envelope(true);
  j["choices"] = json::array({{{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"logprobs", nullptr},
                               {"finish_reason", nullptr}}});
  return "data: " + dump_json(j) + "\n\n";
}

std::string response_builder::delta_chunk(std::string_view text, const json* logprobs) const {
  json j = envelope(true);
  json choice = {{"index", 0}, {"logprobs", logprobs ? *logprobs : json()}, {"finish_reason", nullptr}};
  if (kind_ == api_kind::chat) choice["delta"] = {{"content", std::string(text)}};
  else choice["text"] = std::string(text);
  j["choices"] = json::array({std::move(choice)});
  return "data: " + dump_json(j) + "\n\n";
}

std::string response_builder::final_chunk(std::string_view finish_reason, const json* logprobs, std::string_view text) const {
  json j = envelope(true);
  json choice = {{"index", 0}, {"logprobs", logprobs ? *logprobs : json()}, {"finish_reason", std::string(finish_reason)}};
  if (kind_ == api_kind::chat) choice["delta"] = text.empty() ? json::object() : json{{"content", std::string(text)}};
  else choice["text"] = std::string(text);
  j["choices"] = json::array({std::move(choice)});
  return "data: " + dump_json(j) + "\n\n";
}

std::string response_builder::usage_chunk(const usage_counts& u) const {
  json j = envelope(true);
  j["choices"] = json::array();
  j["usage"] = usage_json(u);
  return "data: " + dump_json(j) + "\n\n";
}

std::string response_builder::full(std::string_view text, std::string_view finish_reason, const usage_counts& u,
                                   const json* logprobs) const {
  json j = envelope(false);
  json choice = {{"index", 0}, {"logprobs", logprobs ? *logprobs : json()}, {"finish_reason", std::string(finish_reason)}};
  if (kind_ == api_kind::chat) choice["message"] = {{"role", "assistant"}, {"content", std::string(text)}};
  else choice["text"] = std::string(text);
  j["choices"] = json::array({std::move(choice)});
  j["usage"] = usage_json(u);
  return dump_json(j);
}

}  // namespace laneway::worker
