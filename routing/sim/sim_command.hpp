// The `laneway sim` subcommand (the routing benchmark), expanded by tools/cli/main.cpp into its
// table through LANEWAY_SIM_COMMANDS.
#pragma once

namespace laneway::routing::sim {

// laneway sim [--json] [--policy P] [--seed S] [--requests N] [--rate R] [--index precise|approximate]:
// runs the shared-prefix workload through each policy (or only P) and prints hit rates and TTFT
// percentiles; exit 2 on bad flags.
int sim_command(int argc, char** argv);

}  // namespace laneway::routing::sim

#define LANEWAY_SIM_COMMANDS \
  {"sim", "routing benchmark: simulated nodes and a shared-prefix workload through each policy (--json)", \
   laneway::routing::sim::sim_command},
