// `laneway tokenize`: loads only what tokenizing needs from a GGUF file (vocab-only files work),
// tokenizes TEXT or the contents of --file, prints the ids. Load errors name the file and offset.
#include "backends/engine/commands.hpp"
#include "backends/engine/cli_args.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "backends/engine/gguf.hpp"
#include "backends/engine/tokenizer.hpp"

namespace laneway::engine {

int tokenize_command(int argc, char** argv) {
  CLI::App app{"Print the token ids of a text, as the model's tokenizer produces them", "laneway tokenize"};
  std::string model_path, text, file_path;
  bool no_special = false, no_bos = false;
  app.add_option("-m,--model", model_path, "GGUF model or vocab file")->required();
  app.add_flag("--no-special", no_special, "treat control tokens written in the text as plain text");
  app.add_flag("--no-bos", no_bos, "do not add BOS/EOS even if the vocab asks for them");
  auto* text_opt = app.add_option("text", text, "text to tokenize");
  auto* file_opt = app.add_option("--file", file_path, "read the text from this file");
  text_opt->excludes(file_opt);
  if (auto exit_code = parse_command_line(app, argc, argv, 1)) return *exit_code;
  if (!*text_opt && !*file_opt) {
    std::fprintf(stderr, "laneway tokenize: give a TEXT or --file F\n");
    return 1;
  }
  if (*file_opt) {
    std::ifstream in(file_path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "laneway tokenize: cannot read '%s'\n", file_path.c_str());
      return 1;
    }
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  try {
    const gguf_file model = gguf_file::open(model_path);
    const tokenizer tok = tokenizer::from_gguf(model);
    const auto ids = tok.tokenize(text, !no_bos, !no_special);
    std::string line;
    line.reserve(ids.size() * 6);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (i) line += ' ';
      line += std::to_string(ids[i]);
    }
    std::printf("%s\n", line.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "laneway tokenize: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace laneway::engine
