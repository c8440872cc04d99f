// The prompt mix `laneway ladder` sends: named, versioned entries (short chat, agent calls, a
// generated long-context prompt, ...) chosen in a fixed weighted rotation so runs are comparable.
// The built-in mix is TOML text (builtin_mix.cpp, also shipped as conf/ladder-mix.toml); --mix
// loads another file with the same schema (mix_file.hpp, docs/ladder.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace laneway::ladder {

struct mix_message {
  std::string role;  // system, user or assistant
  std::string content;
};

struct mix_entry {
  std::string kind;                 // e.g. short_chat: the CSV's kind column
  int weight = 0;                   // slots out of the mix's rotation
  bool short_prompt = false;        // counts toward the short-prompt TTFT gate
  int max_tokens = 0;               // 0: the run's --max-tokens; otherwise min(this, --max-tokens)
  std::optional<bool> stream;       // unset: the run's --stream
  std::vector<mix_message> messages;
  int generated_chars = 0;          // > 0: a final user turn of this many characters of filler
  std::string description;
  std::vector<mix_message> sent;    // messages + the generated turn, filled by finalize()
  bool streams(bool run_stream) const { return stream.value_or(run_stream); }
};

struct prompt_mix {
  std::string name;
  int version = 0;          // bump whenever a prompt, weight or the filler changes
  std::string description;
  std::string filler;       // the text generated turns repeat
  std::vector<mix_entry> entries;
  std::vector<int> rotation;  // indexes into entries, length = sum of weights, interleaved
  std::string source;         // "built-in" or the file it was read from
  std::string toml_text;      // the exact text it was parsed from (copied into --out, digested)

  // Builds `rotation` (smooth weighted round-robin, so shares hold in every window) and `sent`.
  void finalize();
  std::string label() const;  // "ladder-mix-v2"
  // The entry a client sends as its n-th request; client k starts 3k slots in.
  const mix_entry& pick(int client, int seq) const;
  std::string summary() const;  // "ladder-mix-v2: short_chat 5/10, agent_call 3/10, long_summarise 2/10"
};

const prompt_mix& builtin_mix();
const char* builtin_mix_toml();

// `chars` characters of `filler` repeated (cut at the end).
std::string generated_text(const std::string& filler, int chars);

// The JSON body of one chat completion request for `entry`.
std::string request_body(const mix_entry& entry, const std::string& model, int max_tokens, bool stream);

}  // namespace laneway::ladder
