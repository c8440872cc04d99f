// Tokenizer throughput: builds a few hundred KB of mixed text (English prose, C++ and Python
// code, Chinese/Japanese/Korean, emoji, numbers, whitespace runs) from fixed snippets with a
// seeded generator, then tokenizes it with each vocab and prints MB/s and tokens/s.
// usage: bench_tokenizer [--bytes N] [--rounds R] [vocab.gguf ...]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "backends/engine/gguf.hpp"
#include "backends/engine/tokenizer.hpp"

using namespace laneway::engine;

namespace {

const char* const snippets[] = {
    "The quick brown fox jumps over the lazy dog. ",
    "Once upon a time, there was a little girl named Lily who loved to play in the park. ",
    "It's a truth universally acknowledged that they'll say we've done what I'd expected. ",
    "for (int i = 0; i < n; ++i) {\n    sum += x[i] * w[i];\n}\n",
    "def tokenize(self, text: str) -> list[int]:\n        return [self.vocab[t] for t in text.split()]\n",
    "    if (rc != 0) { return -EINVAL; }  // 4 spaces, tabs:\t\t\n",
    "人工智能正在改变世界。我们今天讨论语言模型的分词器。",
    "日本語のテキストも少し含めます。東京は晴れです。",
    "안녕하세요, 토크나이저 성능을 측정합니다. ",
    "Emoji: 🙂🚀🦙 👨‍👩‍👧 ✅ ❤️ ",
    "Numbers 1234567 3.14159 2024-11-23 0xDEADBEEF 42% ",
    "Ünïcödé café naïve — “quotes” ‘single’ … ",
    "\n\n   \n",
    "<|endoftext|> <s> </s> [INST] markup <b>bold</b> ",
};

std::string make_text(std::size_t bytes) {
  std::mt19937 rng(42);
  std::string s;
  s.reserve(bytes + 256);
  constexpr std::size_t n = sizeof(snippets) / sizeof(snippets[0]);
  while (s.size() < bytes) s += snippets[rng() % n];
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t bytes = 400 * 1024;
  int rounds = 5;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--bytes" && i + 1 < argc) {
      bytes = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) {
    for (const char* v : {"gpt-2", "llama-spm", "starcoder", "deepseek-coder"}) {
      files.push_back(std::string(LANEWAY_SHARED_DATA) + "/tokenizer/ggml-vocab-" + v + ".gguf");
    }
  }
  const std::string text = make_text(bytes);
  std::printf("text: %zu bytes (English, code, CJK, emoji), best of %d rounds\n", text.size(), rounds);
  std::printf("%-28s %10s %12s %14s %10s\n", "vocab", "MB/s", "tokens", "Mtokens/s", "load ms");
  for (const auto& file : files) {
    try {
      const auto t0 = std::chrono::steady_clock::now();
      const tokenizer tok = tokenizer::from_gguf(gguf_file::open(file));
      const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      double best = 1e30;
      std::size_t n_tokens = 0;
      std::vector<token_id> ids;
      for (int r = 0; r < rounds; ++r) {
        ids.clear();
        const auto start = std::chrono::steady_clock::now();
        tok.tokenize(text, true, true, ids);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        n_tokens = ids.size();
      }
      const std::string name = file.substr(file.find_last_of('/') + 1);
      std::printf("%-28s %10.2f %12zu %14.2f %10.1f\n", name.c_str(), text.size() / best / 1e6, n_tokens,
                  n_tokens / best / 1e6, load_ms);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", file.c_str(), e.what());
      return 1;
    }
  }
  return 0;
}
