// SentencePiece tokenization as the peer (llama.cpp) does it for `tokenizer.ggml.model = llama`:
//   1. Cut the (▁-escaped) text into UTF-8 characters, one symbol each, in a linked list.
//   2. Put every adjacent pair whose concatenation is a vocab token in a max-heap keyed by that
//      token's score (ties: the leftmost pair first).
//   3. Pop the best pair; skip it if either side has changed since it was queued (its combined
//      length no longer matches); else merge right into left and queue the new neighbours.
//   4. Emit each remaining symbol's token; a symbol that is not a token falls back to one byte
//      token <0xXX> per byte (then the raw single-byte token, then <unk>).
// Merged symbols are always tokens (a pair is only queued when it is), so the peer's
// "resegment" recursion never fires and is not needed here.
// Speed: the peer runs one heap over the whole text. When no token has ▁ right after another
// character (vocab.spm_words_independent, true for Llama's vocab), no pair can ever merge across
// the boundary in front of a word's ▁, and merges in different words do not interact, so each
// word gets its own small heap: the same result, with cache-friendly heaps.
#include <queue>

#include "backends/engine/tokenizer_algorithms.hpp"
#include "backends/engine/unicode.hpp"

namespace laneway::engine::detail {

namespace {

struct symbol {
  uint32_t start;
  uint32_t n;  // bytes; 0 once merged into its left neighbour
  int32_t prev;
  int32_t next;
  token_id id;  // token of this symbol's text, no_token when unknown yet / not a token
};

struct bigram {
  float score;
  int32_t left;
  int32_t right;
  uint32_t size;
  token_id id;
};

struct lower_priority {
  bool operator()(const bigram& l, const bigram& r) const {
    return l.score < r.score || (l.score == r.score && l.left > r.left);
  }
};

}  // namespace

namespace {

constexpr std::string_view word_start = "\xE2\x96\x81";  // ▁

using bigram_queue = std::priority_queue<bigram, std::vector<bigram>, lower_priority>;

// Merges symbols[first, last) (a linked list closed at both ends) and appends their tokens.
void merge_segment(const vocab& v, std::string_view text, std::vector<symbol>& symbols, int32_t first, int32_t last,
                   bigram_queue& queue, std::vector<token_id>& out) {
  symbols[first].prev = -1;
  symbols[last - 1].next = -1;
  const auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const symbol& l = symbols[left];
    const symbol& r = symbols[right];
    const std::string_view joined = text.substr(l.start, l.n + r.n);
    const token_id id = v.text_to_id.find(joined);
    if (id == no_token) return;
    queue.push({v.scores[id], left, right, l.n + r.n, id});
  };
  for (int32_t i = first + 1; i < last; ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const bigram b = queue.top();
    queue.pop();
    symbol& l = symbols[b.left];
    symbol& r = symbols[b.right];
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
    l.n += r.n;
    l.id = b.id;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }

  for (int32_t i = first; i != -1; i = symbols[i].next) {
    const symbol& s = symbols[i];
    if (s.id != no_token) {
      out.push_back(s.id);
      continue;
    }
    const std::string_view piece = text.substr(s.start, s.n);
    if (const token_id id = v.text_to_id.find(piece); id != no_token) {
      out.push_back(id);
      continue;
    }
    for (const char c : piece) {
      const token_id byte = v.byte_token[static_cast<unsigned char>(c)];
      if (byte != no_token) {
        out.push_back(byte);
      } else if (v.unk != no_token) {
        out.push_back(v.unk);
      }
    }
  }
}

}  // namespace

void spm_tokenize(const vocab& v, std::string_view text, std::vector<token_id>& out) {
  std::vector<symbol> symbols;
  symbols.reserve(text.size());
  for (uint32_t off = 0; off < text.size();) {
    const auto n = static_cast<uint32_t>(std::min(utf8_len(static_cast<unsigned char>(text[off])), text.size() - off));
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({off, n, index - 1, index + 1, no_token});
    off += n;
  }
  if (symbols.empty()) return;
  bigram_queue queue;
  const auto count = static_cast<int32_t>(symbols.size());
  if (!v.spm_words_independent) {
    merge_segment(v, text, symbols, 0, count, queue, out);
    return;
  }
  const auto is_space = [&](int32_t i) { return text.substr(symbols[i].start, symbols[i].n) == word_start; };
  int32_t first = 0;
  for (int32_t i = 1; i < count; ++i) {
    if (is_space(i) && !is_space(i - 1)) {  // a word starts: nothing can merge across here
      merge_segment(v, text, symbols, first, i, queue, out);
      first = i;
    }
  }
  merge_segment(v, text, symbols, first, count, queue, out);
}

}  // namespace laneway::engine::detail
