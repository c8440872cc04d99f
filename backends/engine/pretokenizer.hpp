// Splits text into pre-tokens before byte-level BPE, with the regexes the peer (llama.cpp) uses
// for each tokenizer.ggml.pre. Runs on PCRE2 with UTF + UCP (Unicode \p{L}, \p{N}, \s), JIT-compiled
// when the library supports it.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "backends/engine/vocab.hpp"

namespace laneway::engine {

struct text_span {
  uint32_t offset;
  uint32_t length;
};

class pretokenizer {
 public:
  explicit pretokenizer(pre_type type);  // throws std::runtime_error if a pattern fails to compile
  ~pretokenizer();
  pretokenizer(pretokenizer&&) noexcept;
  pretokenizer& operator=(pretokenizer&&) noexcept;

  // Appends the pieces of `text` (valid UTF-8, see sanitize_utf8) to `out`, in order, covering
  // every byte. Each pattern in the list splits every piece left by the previous one, keeping
  // both the matches and the text between them.
  void split(std::string_view text, std::vector<text_span>& out) const;

  // The patterns for a pre-tokenizer type, in the order they run.
  static std::vector<std::string_view> patterns(pre_type type);
  bool jit() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace laneway::engine
