// The `laneway ladder` and `laneway soak` subcommands (closed-loop load against any
// OpenAI-compatible URL), expanded by tools/cli/main.cpp into its table through
// LANEWAY_LADDER_COMMANDS.
#pragma once

namespace laneway::ladder {

// laneway ladder --url URL --model M --concurrency 1,2,4 --duration 10s [--stream] [--mix FILE]
// [--out DIR] [--gate-* ...] [...]; see docs/ladder.md. Exit 0: every gate passed or skipped;
// 1: a gate failed; 2: bad flags; 3: --out could not be written.
int ladder_command(int argc, char** argv);

// laneway soak --url URL --model M --concurrency N --duration 600s [--window 60s] [...]: one
// long rung with per-window percentiles; the same report and exit statuses as ladder.
int soak_command(int argc, char** argv);

}  // namespace laneway::ladder

#define LANEWAY_LADDER_COMMANDS \
  {"ladder", "load ladder: closed-loop load at each concurrency, TTFT/gap/e2e percentiles and gates", \
   laneway::ladder::ladder_command}, \
  {"soak", "soak: the ladder's load at one concurrency for a long window (default 600s), per-window drift", \
   laneway::ladder::soak_command},
