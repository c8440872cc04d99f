// The engine's `laneway` subcommands. tools/cli/main.cpp expands LANEWAY_ENGINE_COMMANDS into its
// table of {name, summary, run}; each run(argc, argv) gets argv[0] = the subcommand name.
#pragma once

namespace laneway::engine {

// laneway tokenize -m FILE [--no-special] [--no-bos] (TEXT | --file F): prints the token ids of
// the text, space separated, on one line. Exit 0, or 1 with a message naming the file on error.
int tokenize_command(int argc, char** argv);

// laneway mkmodel --arch A --vocab FILE --layers N --embd D [--heads H ...] --type T --seed S -o OUT:
// a GGUF model with seeded random weights and a copied vocabulary (mkmodel.hpp). Exit 2 on bad
// flags, 1 when the vocab cannot be read or the output written.
int mkmodel_command(int argc, char** argv);

// laneway run -m FILE -p TEXT [-n N] [--chat] [-t THREADS] [--temp ...]: streams the generated
// text to stdout, then prompt and generation tokens/s to stderr (run_command.cpp).
int run_command(int argc, char** argv);

// laneway bench -m FILE [-t THREADS] [-p 512] [-n 128] [-b 1,2,4,8] [--json]: prefill and
// per-batch-size decode tokens/s as a table or JSON rows (bench_command.cpp).
int bench_command(int argc, char** argv);

}  // namespace laneway::engine

#define LANEWAY_ENGINE_COMMANDS \
  {"mkmodel", "write a random-weight model with a real vocab (--arch --vocab ...)", laneway::engine::mkmodel_command}, \
  {"tokenize", "print the token ids of a text (-m FILE)", laneway::engine::tokenize_command}, \
  {"run", "generate text from a prompt on the CPU (-m FILE -p TEXT)", laneway::engine::run_command}, \
  {"bench", "prefill and decode tokens/s of a model (-m FILE)", laneway::engine::bench_command},
