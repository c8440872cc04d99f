// ladder-mix-v1 (see prompt_mix.hpp and docs/ladder.md). The long prompt is about 1,200
// characters so it fits a 512-token model with room to answer; on big models it is a floor.
#include "tools/ladder/prompt_mix.hpp"

#include <nlohmann/json.hpp>

namespace laneway::ladder {

namespace {

std::string long_document() {
  const std::string paragraph =
      "The team shared one inference box. On Monday two people streamed answers while a third ran a batch of "
      "forty documents; the stream slowed and the batch finished late. ";
  std::string doc;
  for (int i = 0; i < 8; ++i) doc += paragraph;
  return doc;
}

prompt_mix make_mix() {
  prompt_mix m;
  m.name = "ladder-mix-v1";
  m.entries = {
      {"short_chat", 5, true, 0, "", "Tell me a short story about a cat.",
       "one user turn, a few words, answer up to --max-tokens"},
      {"agent_call", 3, true, 16,
       "You are a tool-calling agent. Reply with one JSON object {\"tool\": name, \"args\": {...}}.",
       "List the files in the project folder.", "system + short user turn, answer capped at 16 tokens"},
      {"long_summarise", 2, false, 0, "Summarise the document in two sentences.", long_document(),
       "~1,200-character document to summarise, answer up to --max-tokens"},
  };
  // Interleaved so that every window of 10 requests has the weights above.
  m.rotation = {0, 1, 0, 2, 1, 0, 0, 1, 2, 0};
  return m;
}

}  // namespace

const mix_entry& prompt_mix::pick(int client, int seq) const {
  auto n = static_cast<int>(rotation.size());
  int slot = ((client * 3 + seq) % n + n) % n;
  return entries[static_cast<std::size_t>(rotation[static_cast<std::size_t>(slot)])];
}

std::string prompt_mix::summary() const {
  int total = static_cast<int>(rotation.size());
  std::string s = name + ":";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    s += (i ? ", " : " ") + entries[i].kind + " " + std::to_string(entries[i].weight) + "/" + std::to_string(total);
  }
  return s;
}

const prompt_mix& builtin_mix() {
  static const prompt_mix mix = make_mix();
  return mix;
}

std::string request_body(const mix_entry& entry, const std::string& model, int max_tokens, bool stream) {
  nlohmann::json messages = nlohmann::json::array();
  if (!entry.system.empty()) messages.push_back({{"role", "system"}, {"content", entry.system}});
  messages.push_back({{"role", "user"}, {"content", entry.user}});
  int tokens = entry.max_tokens > 0 ? std::min(entry.max_tokens, max_tokens) : max_tokens;
  nlohmann::json body = {{"model", model}, {"messages", messages}, {"max_tokens", tokens}, {"stream", stream}};
  if (stream) body["stream_options"] = {{"include_usage", true}};
  return body.dump();
}

}  // namespace laneway::ladder
