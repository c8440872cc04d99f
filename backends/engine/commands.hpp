// The engine's `laneway` subcommands. tools/cli/main.cpp expands LANEWAY_ENGINE_COMMANDS into its
// table of {name, summary, run}; each run(argc, argv) gets argv[0] = the subcommand name.
#pragma once

namespace laneway::engine {

// laneway tokenize -m FILE [--no-special] [--no-bos] (TEXT | --file F): prints the token ids of
// the text, space separated, on one line. Exit 0, or 1 with a message naming the file on error.
int tokenize_command(int argc, char** argv);

}  // namespace laneway::engine

#define LANEWAY_ENGINE_COMMANDS \
  {"tokenize", "print the token ids of a text (-m FILE)", laneway::engine::tokenize_command},
