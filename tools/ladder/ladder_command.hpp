// The `laneway ladder` subcommand (closed-loop load ladder against any OpenAI-compatible URL),
// expanded by tools/cli/main.cpp into its table through LANEWAY_LADDER_COMMANDS.
#pragma once

namespace laneway::ladder {

// laneway ladder --url URL --model M [--key K] --concurrency 1,2,4 --duration 10s [--stream]
// [--max-tokens N] [--timeout 60s] [--out DIR] [--json] [--gate-* ...]. Exit 0: every gate passed
// or skipped; 1: a gate failed; 2: bad flags; 3: --out could not be written.
int ladder_command(int argc, char** argv);

}  // namespace laneway::ladder

#define LANEWAY_LADDER_COMMANDS \
  {"ladder", "load ladder: closed-loop load at each concurrency, TTFT/gap/e2e percentiles and gates", \
   laneway::ladder::ladder_command},
