// The built-in prompt mix, as the TOML text it is parsed from: the same bytes ship as
// conf/ladder-mix.toml (a unit test keeps the two identical), so the mix in a report can be
// re-run with --mix and its digest compared. The long prompt (1,280 characters) fits a
// 512-token model with room to answer; on big models it is a floor, not a long-context test.
#include "tools/ladder/mix_file.hpp"
#include "tools/ladder/prompt_mix.hpp"

namespace laneway::ladder {

const char* builtin_mix_toml() {
  return R"(# laneway ladder prompt mix: the built-in one (schema in docs/ladder.md).
# Copy it, change prompts or weights, bump `version` and pass it with --mix FILE.toml.
name = "ladder-mix"
version = 2
description = "short chat, agent-style short calls and a long summarise prompt"
filler = "The team shared one inference box. On Monday two people streamed answers while a third ran a batch of forty documents; the stream slowed and the batch finished late. "

[[entries]]
kind = "short_chat"
weight = 5
description = "one user turn, a few words, answer up to --max-tokens"
messages = [{ role = "user", content = "Tell me a short story about a cat." }]

[[entries]]
kind = "agent_call"
weight = 3
max_tokens = 16
description = "system + short user turn, answer capped at 16 tokens"
messages = [
  { role = "system", content = "You are a tool-calling agent. Reply with one JSON object {\"tool\": name, \"args\": {...}}." },
  { role = "user", content = "List the files in the project folder." },
]

[[entries]]
kind = "long_summarise"
weight = 2
short_prompt = false
generated_chars = 1280
description = "1,280 characters of filler to summarise, answer up to --max-tokens"
messages = [{ role = "system", content = "Summarise the document in two sentences." }]
)";
}

const prompt_mix& builtin_mix() {
  static const prompt_mix mix = parse_mix_toml(builtin_mix_toml(), "built-in");
  return mix;
}

}  // namespace laneway::ladder
