// prompt_mix: the weighted rotation, generated long prompts and request bodies (see prompt_mix.hpp).
// The rotation is smooth weighted round-robin (as nginx balances upstreams): each slot every
// entry gains its weight and the richest entry is picked and pays the total, which spreads an
// entry's slots evenly instead of sending them back to back.
#include "tools/ladder/prompt_mix.hpp"

#include <nlohmann/json.hpp>

namespace laneway::ladder {

std::string generated_text(const std::string& filler, int chars) {
  std::string out;
  if (filler.empty() || chars <= 0) return out;
  out.reserve(static_cast<std::size_t>(chars));
  while (out.size() < static_cast<std::size_t>(chars)) out += filler;
  out.resize(static_cast<std::size_t>(chars));
  return out;
}

void prompt_mix::finalize() {
  int total = 0;
  for (const auto& e : entries) total += e.weight;
  std::vector<int> current(entries.size(), 0);
  rotation.clear();
  for (int slot = 0; slot < total; ++slot) {
    std::size_t best = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      current[i] += entries[i].weight;
      if (current[i] > current[best]) best = i;
    }
    current[best] -= total;
    rotation.push_back(static_cast<int>(best));
  }
  for (auto& e : entries) {
    e.sent = e.messages;
    if (e.generated_chars > 0) e.sent.push_back({"user", generated_text(filler, e.generated_chars)});
  }
}

std::string prompt_mix::label() const { return name + "-v" + std::to_string(version); }

const mix_entry& prompt_mix::pick(int client, int seq) const {
  auto n = static_cast<int>(rotation.size());
  int slot = ((client * 3 + seq) % n + n) % n;
  return entries[static_cast<std::size_t>(rotation[static_cast<std::size_t>(slot)])];
}

std::string prompt_mix::summary() const {
  int total = static_cast<int>(rotation.size());
  std::string s = label() + ":";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    s += (i ? ", " : " ") + entries[i].kind + " " + std::to_string(entries[i].weight) + "/" + std::to_string(total);
  }
  return s;
}

std::string request_body(const mix_entry& entry, const std::string& model, int max_tokens, bool stream) {
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& m : entry.sent) messages.push_back({{"role", m.role}, {"content", m.content}});
  int tokens = entry.max_tokens > 0 ? std::min(entry.max_tokens, max_tokens) : max_tokens;
  nlohmann::json body = {{"model", model}, {"messages", messages}, {"max_tokens", tokens}, {"stream", stream}};
  if (stream) body["stream_options"] = {{"include_usage", true}};
  return body.dump();
}

}  // namespace laneway::ladder
