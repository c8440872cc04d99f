// Text <-> token ids for a model, built from its GGUF vocab: SentencePiece ("llama") or
// byte-level BPE ("gpt2") with the peer's pre-tokenizer regexes. Thread-safe after
// construction (tokenize and decode are const and keep their scratch space on the stack).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/engine/vocab.hpp"

namespace laneway::engine {

class gguf_file;
class pretokenizer;

class tokenizer {
 public:
  explicit tokenizer(vocab v);  // throws std::runtime_error if a pre-tokenizer fails to compile
  static tokenizer from_gguf(const gguf_file& file);
  ~tokenizer();
  tokenizer(tokenizer&&) noexcept;
  tokenizer& operator=(tokenizer&&) noexcept;

  // add_special: BOS/EOS as the vocab asks (tokenizer.ggml.add_bos_token / add_eos_token).
  // parse_special: control tokens written in the text (e.g. "<|im_start|>") become their ids;
  // user-defined tokens are always matched verbatim, as in the peer. Texts are limited to 4 GiB.
  std::vector<token_id> tokenize(std::string_view text, bool add_special = true, bool parse_special = true) const;
  void tokenize(std::string_view text, bool add_special, bool parse_special, std::vector<token_id>& out) const;

  // The bytes a token stands for, appended to `out`. Control and unknown tokens give their text
  // only when `special`; SentencePiece ▁ becomes a space; byte tokens give their byte. A piece may
  // be part of a UTF-8 sequence: use stream_detokenizer to emit text while generating.
  void append_piece(token_id id, bool special, std::string& out) const;
  std::string piece(token_id id, bool special = false) const;
  std::string detokenize(std::span<const token_id> ids, bool special = false) const;

  const vocab& vocabulary() const { return *vocab_; }
  std::size_t size() const { return vocab_->size(); }
  bool is_eog(token_id id) const { return vocab_->is_eog(id); }
  // Identity of this tokenizer (model type, pre-tokenizer, every token and merge): the seed of
  // the prefix-cache block hashes (block_hash.hpp).
  uint64_t fingerprint() const { return vocab_->fingerprint; }

  struct special_index;  // defined in tokenizer.cpp

 private:

  std::unique_ptr<const vocab> vocab_;
  std::unique_ptr<const pretokenizer> pre_;     // byte-level BPE only
  std::unique_ptr<const special_index> specials_;
};

// Turns generated ids into text without ever emitting half of a UTF-8 sequence: bytes that start
// a sequence whose continuation has not arrived are held back until the next token.
class stream_detokenizer {
 public:
  explicit stream_detokenizer(const tokenizer& tok, bool special = false) : tok_(tok), special_(special) {}
  void push(token_id id, std::string& out);  // appends the text that is now complete
  std::string push(token_id id);
  // At end of stream: held-back bytes that never completed come out as U+FFFD.
  void finish(std::string& out);
  std::size_t held() const { return held_.size(); }

 private:
  const tokenizer& tok_;
  bool special_;
  std::string held_;
};

}  // namespace laneway::engine
