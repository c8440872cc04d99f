// Generates the benchmark workload from one seeded engine: system prompts, then arrivals that
// each pick a user uniformly and send that user's next turn.
#include "routing/sim/workload.hpp"

#include <cmath>
#include <random>

namespace laneway::routing::sim {

namespace {

std::vector<std::int32_t> random_tokens(std::mt19937_64& rng, int n) {
  std::uniform_int_distribution<std::int32_t> id(3, 31999);
  std::vector<std::int32_t> out(std::size_t(std::max(n, 0)));
  for (auto& t : out) t = id(rng);
  return out;
}

struct conversation {
  std::vector<std::int32_t> history;  // everything after the system prompt so far
  int turns = 0;
};

}  // namespace

std::vector<sim_request> make_workload(const workload_config& config) {
  std::mt19937_64 rng(config.seed);
  std::uniform_int_distribution<int> system_len(config.system_min_tokens, config.system_max_tokens);
  std::uniform_int_distribution<int> message_len(config.message_min_tokens, config.message_max_tokens);
  std::uniform_int_distribution<int> answer_len(config.answer_min_tokens, config.answer_max_tokens);
  std::exponential_distribution<double> gap(config.arrivals_per_s);

  std::vector<std::vector<std::int32_t>> systems;
  for (std::size_t s = 0; s < config.system_prompts; ++s) systems.push_back(random_tokens(rng, system_len(rng)));
  const std::size_t users = config.system_prompts * config.users_per_prompt;
  std::vector<conversation> talks(users);
  // Uniform: any user. Skewed: tenant k with weight 1 / (k + 1)^skew, then one of its users.
  std::uniform_int_distribution<std::size_t> pick_user(0, users - 1);
  std::vector<double> weights;
  for (std::size_t s = 0; s < config.system_prompts; ++s)
    weights.push_back(std::pow(double(s + 1), -config.tenant_skew));
  std::discrete_distribution<std::size_t> pick_tenant(weights.begin(), weights.end());
  std::uniform_int_distribution<std::size_t> pick_member(0, config.users_per_prompt - 1);

  std::vector<sim_request> out;
  out.reserve(config.requests);
  double t = 0;
  for (std::size_t i = 0; i < config.requests; ++i) {
    t += gap(rng);
    const std::size_t u = config.tenant_skew > 0 ? pick_tenant(rng) * config.users_per_prompt + pick_member(rng)
                                                 : pick_user(rng);
    conversation& talk = talks[u];
    if (talk.turns == config.max_turns) talk = {};
    auto message = random_tokens(rng, message_len(rng));
    talk.history.insert(talk.history.end(), message.begin(), message.end());

    sim_request r;
    r.arrival_s = t;
    r.tenant = u / config.users_per_prompt;
    r.user = "user" + std::to_string(u);
    r.prompt = systems[r.tenant];
    r.prompt.insert(r.prompt.end(), talk.history.begin(), talk.history.end());
    r.output_tokens = answer_len(rng);
    r.answer = random_tokens(rng, r.output_tokens);
    talk.history.insert(talk.history.end(), r.answer.begin(), r.answer.end());
    ++talk.turns;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace laneway::routing::sim
