// Command-line parsing shared by the engine's subcommands (tokenize, run, bench, mkmodel):
// CLI11 prints help or the usage error itself; the caller only learns whether to go on.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>

namespace laneway::engine {

// nullopt: parsed, go on. Otherwise the exit code: 0 after --help, `usage_error` after a
// usage error (CLI11 has printed the message).
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv, int usage_error) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return usage_error;
  }
  return std::nullopt;
}

}  // namespace laneway::engine
