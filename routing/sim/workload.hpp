// The benchmark's workload: a shared-prefix multi-tenant chat load. `system_prompts` apps, each
// with a system prompt of 1–4k tokens and `users_per_prompt` users holding multi-turn
// conversations (each turn's prompt = system prompt + the conversation so far + a new message),
// arriving as a Poisson process. Deterministic for a seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace laneway::routing::sim {

struct workload_config {
  std::uint64_t seed = 1;
  std::size_t requests = 3000;         // arrivals in the run
  double arrivals_per_s = 3;           // Poisson rate over all users
  std::size_t system_prompts = 16;     // tenants (apps), one system prompt each
  int system_min_tokens = 1024, system_max_tokens = 4096;
  std::size_t users_per_prompt = 16;   // conversations per system prompt
  int message_min_tokens = 50, message_max_tokens = 250;  // a user's new message
  int answer_min_tokens = 50, answer_max_tokens = 250;    // the model's answer (max_tokens)
  int max_turns = 4;                   // then the user starts a new conversation
  double tenant_skew = 0;              // Zipf exponent of system-prompt popularity; 0 = all equally popular
};

struct sim_request {
  double arrival_s = 0;
  std::size_t tenant = 0;              // system prompt index
  std::string user;                    // session key (for sticky sessions)
  std::vector<std::int32_t> prompt;    // token ids
  int output_tokens = 0;               // tokens the answer will have
  std::vector<std::int32_t> answer;    // their ids (they join the next turn's prompt)
};

std::vector<sim_request> make_workload(const workload_config& config);

}  // namespace laneway::routing::sim
