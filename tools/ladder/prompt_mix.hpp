// The built-in, versioned prompt mix `laneway ladder` sends: short chat, agent-style short calls
// and a long-context summarise prompt, chosen in a fixed rotation so runs are comparable.
#pragma once

#include <string>
#include <vector>

namespace laneway::ladder {

struct mix_entry {
  std::string kind;         // short_chat, agent_call, long_summarise
  int weight = 0;           // slots out of the mix's rotation
  bool short_prompt = false;  // counts toward the short-prompt TTFT gate
  int max_tokens = 0;       // 0: the run's --max-tokens; otherwise min(this, --max-tokens)
  std::string system;       // "" for none
  std::string user;
  std::string description;
};

struct prompt_mix {
  std::string name;  // "ladder-mix-v1": bump the version whenever a prompt or weight changes
  std::vector<mix_entry> entries;
  std::vector<int> rotation;  // indexes into entries, length = sum of weights, interleaved

  // The entry a client sends as its n-th request; clients start at different offsets.
  const mix_entry& pick(int client, int seq) const;
  std::string summary() const;  // "ladder-mix-v1: short_chat 5/10, agent_call 3/10, long_summarise 2/10"
};

const prompt_mix& builtin_mix();

// The JSON body of one chat completion request for `entry`.
std::string request_body(const mix_entry& entry, const std::string& model, int max_tokens, bool stream);

}  // namespace laneway::ladder
