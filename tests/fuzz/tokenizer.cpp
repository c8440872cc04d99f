// Text through the two vocabularies of the shared test models: byte-level BPE (a Qwen2 "gpt2"
// vocab) and SentencePiece (a Llama vocab). Encode with and without special tokens, decode back,
// and stream-decode token by token; none may crash, and every id must be in the vocabulary.
// The first byte picks the vocabulary and the flags; the rest is the text.
#include <memory>
#include <string>

#include "backends/engine/gguf.hpp"
#include "backends/engine/tokenizer.hpp"
#include "tests/fuzz/fuzz_target.hpp"

#ifndef LANEWAY_SHARED_DATA
#error "LANEWAY_SHARED_DATA names the folder of the shared test models"
#endif

namespace laneway::fuzz {

namespace {

struct loaded {
  engine::tokenizer tok;
  std::size_t n_vocab;
};

loaded load(const char* model) {
  auto file = engine::gguf_file::open(std::string(LANEWAY_SHARED_DATA) + "/models/" + model);
  auto tok = engine::tokenizer::from_gguf(file);
  std::size_t n = file.get_string_array("tokenizer.ggml.tokens").size();
  return {std::move(tok), n};
}

const loaded& vocab(bool spm) {
  static const loaded bpe = load("rand-qwen2-gpt2vocab-f16.gguf");
  static const loaded sp = load("rand-llama-spmvocab-q4_0.gguf");
  return spm ? sp : bpe;
}

}  // namespace

int fuzz_tokenizer(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  std::string_view text = as_text(data + 1, size - 1);
  const loaded& v = vocab(flags & 1);
  const bool add_special = flags & 2, parse_special = flags & 4, special_out = flags & 8;
  auto ids = v.tok.tokenize(text, add_special, parse_special);
  for (auto id : ids) LANEWAY_FUZZ_CHECK(id >= 0 && static_cast<std::size_t>(id) < v.n_vocab);
  std::string whole = v.tok.detokenize(ids, special_out);
  engine::stream_detokenizer stream(v.tok, special_out);
  std::string pieces;
  for (auto id : ids) pieces += stream.push(id);
  stream.finish(pieces);
  (void)whole;
  return 0;
}

}  // namespace laneway::fuzz
