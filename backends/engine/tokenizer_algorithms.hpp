// Internal to the tokenizer: the two merge algorithms, each over one piece of text.
// spm_tokenize: tokenizer_spm.cpp; bpe_tokenize_word: tokenizer_bpe.cpp.
#pragma once

#include <string_view>
#include <vector>

#include "backends/engine/vocab.hpp"

namespace laneway::engine::detail {

// `text` is already escaped (spaces as ▁). Appends ids to `out`.
void spm_tokenize(const vocab& v, std::string_view text, std::vector<token_id>& out);

// `word` is one pre-token in raw bytes. Appends ids to `out`.
void bpe_tokenize_word(const vocab& v, std::string_view word, std::vector<token_id>& out);

}  // namespace laneway::engine::detail
