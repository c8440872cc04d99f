// fuzz_replay HARNESS PATH...: runs each file (or every file in each folder) through the harness
// once, as libFuzzer would, and reports how many ran. A finding aborts the process, so ctest
// fails naming the harness; the file being replayed is printed first.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_target.hpp"

namespace fs = std::filesystem;
using namespace laneway::fuzz;

namespace {

struct harness {
  const char* name;
  int (*run)(const std::uint8_t*, std::size_t);
};

constexpr harness harnesses[] = {
    {"http_request", fuzz_http_request}, {"json_request", fuzz_json_request}, {"gguf", fuzz_gguf},
    {"tokenizer", fuzz_tokenizer},       {"config", fuzz_config},             {"kv_events", fuzz_kv_events},
};

std::vector<fs::path> inputs(const fs::path& p) {
  std::vector<fs::path> out;
  if (fs::is_directory(p)) {
    for (const auto& e : fs::directory_iterator(p))
      if (e.is_regular_file() && e.path().filename().string()[0] != '.') out.push_back(e.path());
    std::sort(out.begin(), out.end());
  } else if (fs::exists(p)) {
    out.push_back(p);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: fuzz_replay HARNESS FILE|DIR...\n");
    return 2;
  }
  const harness* h = nullptr;
  for (const auto& x : harnesses)
    if (std::strcmp(x.name, argv[1]) == 0) h = &x;
  if (!h) {
    std::fprintf(stderr, "fuzz_replay: unknown harness '%s'\n", argv[1]);
    return 2;
  }
  std::size_t ran = 0;
  for (int i = 2; i < argc; ++i) {
    for (const auto& file : inputs(argv[i])) {
      std::ifstream in(file, std::ios::binary);
      std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::fprintf(stderr, "%s\n", file.c_str());
      h->run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      ++ran;
    }
  }
  std::printf("fuzz_replay %s: %zu inputs, no finding\n", h->name, ran);
  return ran > 0 ? 0 : 1;  // an empty corpus means the paths are wrong
}
