// `laneway` entry point: dispatches `laneway SUBCOMMAND ...` to the library that implements it.
// Each subcommand parses its own flags; this file only holds the table, help and --version.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "gateway/gateway_command.hpp"
#include "routing/sim/sim_command.hpp"
#include "tools/ladder/ladder_command.hpp"
#ifdef LANEWAY_HAVE_ENGINE
#include "backends/engine/commands.hpp"
#endif
#ifdef LANEWAY_HAVE_WORKER
#include "backends/worker/commands.hpp"
#endif
#ifdef LANEWAY_HAVE_VULKAN
#include "backends/vulkan/vulkan_backend.hpp"
#endif
#ifdef LANEWAY_HAVE_METAL
#include "backends/metal/metal_backend.hpp"
#endif

namespace {

struct subcommand {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);  // argv[0] is the subcommand name
};

const subcommand commands[] = {
    {"gateway", "run the OpenAI-compatible gateway in front of nodes (-c FILE | --node URL)",
     laneway::gateway::gateway_command},
    LANEWAY_SIM_COMMANDS
    LANEWAY_LADDER_COMMANDS
#ifdef LANEWAY_HAVE_WORKER
    LANEWAY_WORKER_COMMANDS
#endif
#ifdef LANEWAY_HAVE_ENGINE
    LANEWAY_ENGINE_COMMANDS
#endif
};

void print_help() {
  std::printf(
      "laneway %s: one OpenAI-compatible team endpoint in front of several LLM nodes\n\n"
      "usage: laneway SUBCOMMAND [options]\n"
      "       laneway help [SUBCOMMAND]\n"
      "       laneway --version\n\n"
      "subcommands:\n",
      LANEWAY_VERSION);
  for (const auto& c : commands) std::printf("  %-10s %s\n", c.name, c.summary);
  std::printf("\n`laneway SUBCOMMAND --help` lists a subcommand's options.\n");
}

const subcommand* find(std::string_view name) {
  for (const auto& c : commands)
    if (name == c.name) return &c;
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  // The GPU hosts this binary was built with join the engine's backend registry (worker, bench).
#ifdef LANEWAY_HAVE_VULKAN
  laneway::vulkan::register_backend();
#endif
#ifdef LANEWAY_HAVE_METAL
  laneway::metal::register_backend();
#endif
  if (argc < 2) {
    print_help();
    return 2;
  }
  std::string_view first = argv[1];
  if (first == "--version" || first == "-V" || first == "version") {
    std::printf("laneway %s\n", LANEWAY_VERSION);
    return 0;
  }
  if (first == "help" || first == "--help" || first == "-h") {
    if (argc >= 3) {
      if (const auto* c = find(argv[2])) {
        char help_flag[] = "--help";
        char* args[] = {argv[2], help_flag, nullptr};
        return c->run(2, args);
      }
      std::fprintf(stderr, "laneway: unknown subcommand '%s'\n", argv[2]);
      return 2;
    }
    print_help();
    return 0;
  }
  if (const auto* c = find(first)) return c->run(argc - 1, argv + 1);
  std::fprintf(stderr, "laneway: unknown subcommand '%s' (try `laneway help`)\n", argv[1]);
  return 2;
}
