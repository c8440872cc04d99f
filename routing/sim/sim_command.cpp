// `laneway sim`: flags, one run per policy on the same seeded workload, and the table or JSON.
#include "routing/sim/sim_command.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "routing/sim/simulation.hpp"

namespace laneway::routing::sim {

namespace {

void print_table(const std::vector<sim_result>& results, const sim_config& config) {
  std::printf("laneway sim: %zu nodes (%zu KV blocks of %zu, %d slots, prefill %.0f tok/s), %zu requests at %.1f/s, "
              "%zu system prompts x %zu users (skew %.1f), %s index\n\n",
              config.nodes, config.node.kv_blocks, config.node.block_size, config.node.max_seqs,
              config.node.prefill_tokens_per_s, config.workload.requests, config.workload.arrivals_per_s,
              config.workload.system_prompts, config.workload.users_per_prompt, config.workload.tenant_skew,
              config.approximate ? "approximate" : "precise");
  std::printf("%-16s %8s %8s %10s %10s %10s %10s  %s\n", "policy", "hit", "oracle", "ttft_p50", "ttft_p95",
              "ttft_p99", "ttft_mean", "decisions");
  for (const auto& r : results) {
    std::string reasons;
    for (const auto& [reason, n] : r.reasons) reasons += reason + "=" + std::to_string(n) + " ";
    std::printf("%-16s %7.1f%% %7.1f%% %9.3fs %9.3fs %9.3fs %9.3fs  %s\n", r.policy.c_str(), 100 * r.hit_rate,
                100 * r.oracle_hit_rate, r.ttft_p50, r.ttft_p95, r.ttft_p99, r.ttft_mean, reasons.c_str());
  }
}

void print_json(const std::vector<sim_result>& results) {
  std::printf("[");
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    std::printf("%s\n  {\"policy\": \"%s\", \"requests\": %zu, \"hit_rate\": %.4f, \"oracle_hit_rate\": %.4f, "
                "\"ttft_p50\": %.4f, \"ttft_p95\": %.4f, \"ttft_p99\": %.4f, \"ttft_mean\": %.4f}",
                i ? "," : "", r.policy.c_str(), r.requests, r.hit_rate, r.oracle_hit_rate, r.ttft_p50, r.ttft_p95,
                r.ttft_p99, r.ttft_mean);
  }
  std::printf("\n]\n");
}

}  // namespace

int sim_command(int argc, char** argv) {
  CLI::App app{"routing benchmark: simulated nodes serve a shared-prefix multi-tenant workload while the real "
               "routing code (prefix index + policy) decides; TTFT in seconds",
               "laneway sim"};
  bool json = false;
  std::string only;
  std::string index = "precise";
  sim_config config;
  app.add_flag("--json", json, "one JSON object per policy");
  app.add_option("--policy", only, "run only this policy")->check(CLI::IsMember(policy_names()));
  app.add_option("--seed", config.workload.seed, "workload seed")->capture_default_str();
  app.add_option("--requests", config.workload.requests, "arrivals")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  app.add_option("--rate", config.workload.arrivals_per_s, "arrivals per second")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--skew", config.workload.tenant_skew, "Zipf exponent of system-prompt popularity (0: uniform)")
      ->capture_default_str()->check(CLI::Range(0.0, 4.0));
  app.add_option("--kv-blocks", config.node.kv_blocks, "KV blocks per node")
      ->capture_default_str()->check(CLI::Range(64, 1 << 24));
  app.add_option("--index", index, "prefix index the gateway keeps")->capture_default_str()
      ->check(CLI::IsMember({"precise", "approximate"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  config.approximate = index == "approximate";

  const auto workload = make_workload(config.workload);
  std::vector<sim_result> results;
  for (const auto& name : policy_names()) {
    if (!only.empty() && name != only) continue;
    policy_config policy;
    policy.name = name;
    results.push_back(run_simulation(config, policy, workload));
  }
  if (json) print_json(results);
  else print_table(results, config);
  return 0;
}

}  // namespace laneway::routing::sim
