// Byte-level BPE over one pre-token, as the peer (llama.cpp) does for `tokenizer.ggml.model =
// gpt2`, but on raw bytes: the vocab and merges were un-mapped from the GPT-2 byte alphabet at
// load time, so each input byte is one starting symbol and no per-word re-encoding is needed.
//   1. If the pre-tokenizer asks (ignore_merges, llama3) and the whole word is a token, emit it.
//   2. One symbol per byte in a linked list; every adjacent pair with a merge rule goes in a
//      min-heap keyed by the rule's rank (ties: the leftmost pair first).
//   3. Pop the best pair; skip it if either side changed since it was queued; else merge right
//      into left (the merged token id was resolved at load time) and queue the new neighbours.
//   4. Emit each symbol's token. A symbol that is not a token (only possible with odd merge
//      lists) emits, like the peer, the tokens of its printable ASCII bytes and drops the rest.
// Scratch vectors are thread_local so tokenizing a long text allocates nothing per word.
#include <algorithm>

#include "backends/engine/tokenizer_algorithms.hpp"

namespace laneway::engine::detail {

namespace {

struct symbol {
  uint32_t start;
  uint32_t n;
  int32_t prev;
  int32_t next;
  token_id id;
};

struct bigram {
  int32_t rank;
  int32_t left;
  int32_t right;
  uint32_t size;
  token_id result;  // the merged token (no_token if the merged bytes are not a token)
};

// Heap order: std::push_heap keeps the "largest" on top, so "less" means a worse merge.
struct worse_merge {
  bool operator()(const bigram& l, const bigram& r) const {
    return l.rank > r.rank || (l.rank == r.rank && l.left > r.left);
  }
};

struct scratch {
  std::vector<symbol> symbols;
  std::vector<bigram> heap;
};

}  // namespace

void bpe_tokenize_word(const vocab& v, std::string_view word, std::vector<token_id>& out) {
  if (word.empty()) return;
  if (v.ignore_merges) {
    if (const token_id id = v.bytes_to_id.find(word); id != no_token) {
      out.push_back(id);
      return;
    }
  }
  if (word.size() == 1) {  // fast path: single byte
    const token_id id = v.byte_token[static_cast<unsigned char>(word[0])];
    if (id != no_token) out.push_back(id);
    return;
  }
  thread_local scratch s;
  auto& symbols = s.symbols;
  auto& heap = s.heap;
  symbols.clear();
  heap.clear();
  const auto n_bytes = static_cast<int32_t>(word.size());
  for (int32_t i = 0; i < n_bytes; ++i) {
    symbols.push_back({static_cast<uint32_t>(i), 1, i - 1, i + 1 == n_bytes ? -1 : i + 1,
                       v.byte_token[static_cast<unsigned char>(word[i])]});
  }
  const auto add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const symbol& l = symbols[left];
    const symbol& r = symbols[right];
    const merge_map::value m = v.find_merge(l.id, word.substr(l.start, l.n), r.id, word.substr(r.start, r.n));
    if (m.rank < 0) return;
    heap.push_back({m.rank, left, right, l.n + r.n, m.result});
    std::push_heap(heap.begin(), heap.end(), worse_merge{});
  };
  for (int32_t i = 1; i < n_bytes; ++i) add(i - 1, i);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), worse_merge{});
    const bigram b = heap.back();
    heap.pop_back();
    symbol& l = symbols[b.left];
    symbol& r = symbols[b.right];
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[r.next].prev = b.left;
    l.id = b.result;
    add(l.prev, b.left);
    add(b.left, l.next);
  }

  for (int32_t i = 0; i != -1; i = symbols[i].next) {
    const symbol& sym = symbols[i];
    if (sym.id != no_token) {
      out.push_back(sym.id);
      continue;
    }
    for (const char c : word.substr(sym.start, sym.n)) {
      const auto b = static_cast<unsigned char>(c);
      if (b >= 0x21 && b <= 0x7E && v.byte_token[b] != no_token) out.push_back(v.byte_token[b]);
    }
  }
}

}  // namespace laneway::engine::detail
