// A tokenizer vocabulary read from GGUF metadata (tokenizer.ggml.*): token texts, scores and
// types, merge ranks, the special ids (BOS/EOS/EOT/EOM/UNK and the end-of-generation set), the
// pre-tokenizer name, and lookup maps. Read-only once loaded; shared by tokenize and decode.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "backends/engine/token_map.hpp"

namespace laneway::engine {

class gguf_file;

constexpr token_id no_token = -1;

enum class token_kind : uint8_t {
  undefined = 0, normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6,
};

enum class vocab_model { spm, bpe };  // tokenizer.ggml.model "llama" / "gpt2"

// Which split regexes run before byte-level BPE (tokenizer.ggml.pre), see pretokenizer.hpp.
enum class pre_type { peer_default, gpt2, llama3, qwen2, starcoder, deepseek_coder, deepseek_llm, falcon };

struct vocab {
  // The lookup maps hold views into `texts` and `bytes_of`: a vocab moves but never copies.
  vocab() = default;
  vocab(const vocab&) = delete;
  vocab& operator=(const vocab&) = delete;
  vocab(vocab&&) = default;
  vocab& operator=(vocab&&) = default;

  vocab_model model = vocab_model::spm;
  std::string model_name;  // tokenizer.ggml.model as written
  std::string pre_name;    // tokenizer.ggml.pre as written ("" when absent)
  pre_type pre = pre_type::peer_default;

  std::vector<std::string> texts;  // as stored (SentencePiece: with ▁; BPE: byte-mapped)
  std::vector<float> scores;       // SentencePiece merge priority (0 when absent)
  std::vector<token_kind> kinds;
  token_map text_to_id;  // stored text -> id (last wins)

  // Byte-level BPE works on raw bytes: bytes_of[id] is the token's text with the byte map
  // undone (empty when the text has characters outside the map, e.g. special tokens).
  std::vector<std::string> bytes_of;
  token_map bytes_to_id;
  token_id byte_token[256];  // bytes_to_id of each single byte (SentencePiece: its byte token)
  merge_map merges;          // (left id, right id) -> rank and merged token
  std::unordered_map<std::string, int32_t> merge_rank_by_text;  // merges whose parts are not tokens: "a b"
  std::size_t n_merges = 0;

  token_id bos = no_token, eos = no_token, eot = no_token, eom = no_token, unk = no_token, pad = no_token;
  std::vector<token_id> eog;  // end of generation: eos, eot, eom and known end-of-turn tokens
  bool add_bos = false, add_eos = false;
  bool add_space_prefix = true;  // SentencePiece: prefix raw text with a space
  bool ignore_merges = false;    // BPE: a pre-token that is itself a token skips merging
  // SentencePiece: no token has ▁ right after another character, so no merge can cross the
  // boundary before a word's ▁ and each word can be merged on its own (see tokenizer_spm.cpp).
  bool spm_words_independent = false;

  // Control, user-defined and unknown tokens, longest text first: matched verbatim before
  // splitting (control and unknown only when special parsing is on).
  std::vector<token_id> special_tokens;

  uint64_t fingerprint = 0;  // XXH3 of model, pre and every token text, type and merge

  std::size_t size() const { return texts.size(); }
  bool is_eog(token_id id) const;
  bool is_control(token_id id) const;
  // The merge rule for two adjacent BPE symbols (rank -1 when none).
  merge_map::value find_merge(token_id left, std::string_view left_bytes, token_id right,
                              std::string_view right_bytes) const;
};

// Builds the vocabulary from a GGUF file's tokenizer.ggml.* keys. Throws gguf_error naming the
// key on a missing or inconsistent field (e.g. scores and tokens of different lengths).
vocab load_vocab(const gguf_file& file);

// "gpt-2" -> gpt2 etc.; names the peer does not know fall back to gpt2 (see docs/engine.md).
pre_type pre_type_from_name(std::string_view name, bool& known);

}  // namespace laneway::engine
