// tokenize(): first the special-token partition, then SentencePiece or byte-level BPE on each
// piece of plain text, with BOS/EOS around it as the vocab asks. The partition reproduces the
// peer: special tokens are taken longest text first; each one splits every remaining plain-text
// fragment at its leftmost non-overlapping occurrences. Occurrences of all special tokens are
// found in one pass (candidates indexed by first byte), so texts without specials cost one scan.
#include "backends/engine/tokenizer.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>

#include "backends/engine/gguf.hpp"
#include "backends/engine/pretokenizer.hpp"
#include "backends/engine/tokenizer_algorithms.hpp"
#include "backends/engine/unicode.hpp"

namespace laneway::engine {

struct tokenizer::special_index {
  // by_first_byte[b]: positions in vocab.special_tokens (longest first) of tokens starting with b.
  std::array<std::vector<uint32_t>, 256> by_first_byte;
};

namespace {

struct fragment {
  token_id token;  // no_token: plain text [offset, offset + length)
  uint32_t offset;
  uint32_t length;
};

bool parsed_only_when_special(token_kind k) { return k == token_kind::control || k == token_kind::unknown; }

void partition(const vocab& v, const tokenizer::special_index& index, std::string_view text, bool parse_special,
               std::vector<fragment>& frags) {
  frags.clear();
  if (text.empty()) return;
  frags.push_back({no_token, 0, static_cast<uint32_t>(text.size())});
  // hits: (rank in special_tokens, position), for every occurrence of every eligible special.
  std::vector<std::pair<uint32_t, uint32_t>> hits;
  for (uint32_t i = 0; i < text.size(); ++i) {
    for (const uint32_t rank : index.by_first_byte[static_cast<unsigned char>(text[i])]) {
      const token_id id = v.special_tokens[rank];
      if (!parse_special && parsed_only_when_special(v.kinds[id])) continue;
      const std::string& t = v.texts[id];
      if (text.size() - i >= t.size() && text.compare(i, t.size(), t) == 0) hits.emplace_back(rank, i);
    }
  }
  if (hits.empty()) return;
  std::sort(hits.begin(), hits.end());
  std::vector<fragment> next;
  for (std::size_t h = 0; h < hits.size();) {
    const uint32_t rank = hits[h].first;
    std::size_t end_h = h;
    while (end_h < hits.size() && hits[end_h].first == rank) ++end_h;
    const token_id id = v.special_tokens[rank];
    const auto len = static_cast<uint32_t>(v.texts[id].size());
    next.clear();
    for (const fragment& f : frags) {
      if (f.token != no_token) {
        next.push_back(f);
        continue;
      }
      uint32_t cur = f.offset;
      const uint32_t end = f.offset + f.length;
      auto it = std::lower_bound(hits.begin() + static_cast<std::ptrdiff_t>(h), hits.begin() + static_cast<std::ptrdiff_t>(end_h),
                                 std::make_pair(rank, cur));
      for (; it != hits.begin() + static_cast<std::ptrdiff_t>(end_h); ++it) {
        const uint32_t p = it->second;
        if (p < cur) continue;  // overlaps the previous match
        if (p + len > end) break;
        if (p > cur) next.push_back({no_token, cur, p - cur});
        next.push_back({id, p, len});
        cur = p + len;
      }
      if (cur < end) next.push_back({no_token, cur, end - cur});
    }
    frags.swap(next);
    h = end_h;
  }
}

void escape_spaces(std::string_view text, bool prefix, std::string& out) {
  static constexpr std::string_view space = "\xE2\x96\x81";  // ▁
  out.clear();
  if (prefix) out += space;
  for (const char c : text) {
    if (c == ' ') out += space; else out += c;
  }
}

}  // namespace

tokenizer::tokenizer(vocab v) : vocab_(std::make_unique<const vocab>(std::move(v))) {
  if (vocab_->model == vocab_model::bpe) pre_ = std::make_unique<const pretokenizer>(vocab_->pre);
  auto index = std::make_unique<special_index>();
  for (uint32_t rank = 0; rank < vocab_->special_tokens.size(); ++rank) {
    const std::string& t = vocab_->texts[vocab_->special_tokens[rank]];
    index->by_first_byte[static_cast<unsigned char>(t[0])].push_back(rank);
  }
  specials_ = std::move(index);
}

tokenizer tokenizer::from_gguf(const gguf_file& file) { return tokenizer(load_vocab(file)); }

tokenizer::~tokenizer() = default;
tokenizer::tokenizer(tokenizer&&) noexcept = default;
tokenizer& tokenizer::operator=(tokenizer&&) noexcept = default;

std::vector<token_id> tokenizer::tokenize(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<token_id> out;
  out.reserve(text.size() / 3 + 4);
  tokenize(text, add_special, parse_special, out);
  return out;
}

void tokenizer::tokenize(std::string_view text, bool add_special, bool parse_special, std::vector<token_id>& out) const {
  const vocab& v = *vocab_;
  if (text.size() > UINT32_MAX) throw std::length_error("tokenize: text over 4 GiB");
  std::vector<fragment> frags;
  partition(v, *specials_, text, parse_special, frags);
  if (add_special && v.add_bos) out.push_back(v.bos);
  std::string buffer;
  if (v.model == vocab_model::spm) {
    bool prev_special = true;  // the peer prefixes a space at the start and after each special
    for (const fragment& f : frags) {
      if (f.token != no_token) {
        out.push_back(f.token);
        prev_special = true;
        continue;
      }
      escape_spaces(text.substr(f.offset, f.length), v.add_space_prefix && prev_special, buffer);
      detail::spm_tokenize(v, buffer, out);
      prev_special = false;
    }
  } else {
    std::vector<text_span> words;
    for (const fragment& f : frags) {
      if (f.token != no_token) {
        out.push_back(f.token);
        continue;
      }
      std::string_view piece = text.substr(f.offset, f.length);
      if (sanitize_utf8(piece, buffer)) piece = buffer;
      words.clear();
      pre_->split(piece, words);
      for (const text_span w : words) detail::bpe_tokenize_word(v, piece.substr(w.offset, w.length), out);
    }
  }
  if (add_special && v.add_eos && v.eos != no_token) out.push_back(v.eos);
}

void tokenizer::append_piece(token_id id, bool special, std::string& out) const {
  const vocab& v = *vocab_;
  if (id < 0 || static_cast<std::size_t>(id) >= v.size()) return;
  const std::string& text = v.texts[id];
  switch (v.kinds[id]) {
    case token_kind::control:
    case token_kind::unknown:
      if (special) out += text;
      return;
    case token_kind::user_defined:
      out += text;
      return;
    case token_kind::normal:
      break;
    case token_kind::byte:
      if (v.model == vocab_model::spm && text.size() == 6 && text.starts_with("<0x")) {
        out += static_cast<char>(std::stoi(text.substr(3, 2), nullptr, 16));
      }
      return;
    default:
      return;  // unused / undefined: nothing, as in the peer
  }
  if (v.model == vocab_model::spm) {
    for (std::size_t i = 0; i < text.size();) {
      if (text.compare(i, 3, "\xE2\x96\x81") == 0) {
        out += ' ';
        i += 3;
      } else {
        out += text[i++];
      }
    }
  } else {
    out += v.bytes_of[id].empty() ? text : v.bytes_of[id];
  }
}

std::string tokenizer::piece(token_id id, bool special) const {
  std::string s;
  append_piece(id, special, s);
  return s;
}

std::string tokenizer::detokenize(std::span<const token_id> ids, bool special) const {
  std::string s;
  for (const token_id id : ids) append_piece(id, special, s);
  return s;
}

void stream_detokenizer::push(token_id id, std::string& out) {
  tok_.append_piece(id, special_, held_);
  const std::size_t keep = incomplete_utf8_suffix(held_);
  out.append(held_, 0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
}

std::string stream_detokenizer::push(token_id id) {
  std::string out;
  push(id, out);
  return out;
}

void stream_detokenizer::finish(std::string& out) {
  if (!held_.empty()) out += "\xEF\xBF\xBD";
  held_.clear();
}

}  // namespace laneway::engine
