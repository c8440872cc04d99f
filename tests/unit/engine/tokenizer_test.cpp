// Tokenizer behaviour beyond the peer's vectors: BOS/EOS and special-token flags, the
// special-token partition, pre-tokenizer splits, hostile input, decoding the golden completions,
// and the streaming detokenizer never emitting half a UTF-8 character.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "backends/engine/gguf.hpp"
#include "backends/engine/pretokenizer.hpp"
#include "backends/engine/tokenizer.hpp"
#include "backends/engine/unicode.hpp"
#include "tests/unit/engine/test_data.hpp"

using namespace laneway::engine;
using laneway::engine::test::data_path;
using laneway::engine::test::read_text;

namespace {

const tokenizer& vocab_tokenizer(const std::string& name) {
  static std::vector<std::pair<std::string, tokenizer>> cache;
  for (const auto& [n, t] : cache)
    if (n == name) return t;
  cache.emplace_back(name, tokenizer::from_gguf(gguf_file::open(data_path(name))));
  return cache.back().second;
}

const tokenizer& gpt2() { return vocab_tokenizer("tokenizer/ggml-vocab-gpt-2.gguf"); }
const tokenizer& spm() { return vocab_tokenizer("tokenizer/ggml-vocab-llama-spm.gguf"); }

std::vector<std::string> split(pre_type type, const std::string& text) {
  const pretokenizer p(type);
  std::vector<text_span> spans;
  p.split(text, spans);
  std::vector<std::string> out;
  for (const auto s : spans) out.push_back(text.substr(s.offset, s.length));
  return out;
}

}  // namespace

TEST_SUITE("engine") {
  TEST_CASE("tokenizer: BOS, EOS and special flags") {
    SUBCASE("spm adds BOS and a space prefix") {
      CHECK(spm().tokenize("Hello", true, true) == std::vector<token_id>{1, 15043});
      CHECK(spm().tokenize("Hello", false, true) == std::vector<token_id>{15043});
      CHECK(spm().tokenize("", true, true) == std::vector<token_id>{1});
      CHECK(spm().tokenize("", false, true).empty());
    }
    SUBCASE("spm control tokens only with parse_special, space prefix after them") {
      const auto parsed = spm().tokenize("<s>Hello", false, true);
      REQUIRE(parsed.size() == 2);
      CHECK(parsed[0] == 1);
      CHECK(parsed[1] == 15043);  // "▁Hello": the peer prefixes a space after a special token
      const auto plain = spm().tokenize("<s>Hello", false, false);
      CHECK(std::find(plain.begin(), plain.end(), 1) == plain.end());
    }
    SUBCASE("gpt-2 adds no BOS; <|endoftext|> parsed only when asked") {
      CHECK(gpt2().tokenize("Hello world", true, true) == std::vector<token_id>{15496, 995});
      CHECK(gpt2().tokenize("a<|endoftext|>b", false, true) == std::vector<token_id>{64, 50256, 65});
      const auto plain = gpt2().tokenize("a<|endoftext|>b", false, false);
      CHECK(plain.size() > 3);
      CHECK(std::find(plain.begin(), plain.end(), 50256) == plain.end());
      CHECK(gpt2().is_eog(50256));
      CHECK_FALSE(gpt2().is_eog(15496));
    }
    SUBCASE("deepseek-coder: BOS from add_bos_token, user-defined tokens always matched") {
      const tokenizer& ds = vocab_tokenizer("tokenizer/ggml-vocab-deepseek-coder.gguf");
      const auto ids = ds.tokenize("<|EOT|>", true, false);
      CHECK(ids == std::vector<token_id>{32013, 32021});
    }
    SUBCASE("longest special first; adjacent and repeated specials") {
      const tokenizer& sc = vocab_tokenizer("tokenizer/ggml-vocab-starcoder.gguf");
      // <pr_diff_hunk> must win over its prefix <pr_diff>.
      CHECK(sc.tokenize("<pr_diff_hunk><pr_diff><pr_diff>", false, true) == std::vector<token_id>{25, 24, 24});
    }
  }

  TEST_CASE("tokenizer: pre-tokenizer splits") {
    struct row {
      pre_type type;
      const char* text;
      std::vector<std::string> pieces;
    };
    const std::vector<row> rows = {
        {pre_type::gpt2, "Hello world  x", {"Hello", " world", " ", " x"}},
        {pre_type::gpt2, "I'll 123", {"I", "'ll", " 123"}},
        {pre_type::llama3, "1234567 ab", {"123", "456", "7", " ab"}},
        {pre_type::llama3, "x\n\n  y", {"x", "\n\n", " ", " y"}},
        {pre_type::qwen2, "12 ab", {"1", "2", " ab"}},
        {pre_type::starcoder, "a12", {"a", "1", "2"}},
        {pre_type::deepseek_coder, "ab\n12", {"ab", "\n", "1", "2"}},
        {pre_type::peer_default, "a,b", {"a", ",", "b"}},
    };
    for (const auto& r : rows) {
      CAPTURE(r.text);
      CHECK(split(r.type, r.text) == r.pieces);
    }
    CHECK(pretokenizer(pre_type::gpt2).jit() == pretokenizer(pre_type::gpt2).jit());  // compiles twice
  }

  TEST_CASE("tokenizer: invalid UTF-8 and random bytes never break it") {
    std::mt19937 rng(7);
    for (const char* name : {"tokenizer/ggml-vocab-gpt-2.gguf", "tokenizer/ggml-vocab-llama-spm.gguf",
                             "tokenizer/ggml-vocab-deepseek-coder.gguf", "tokenizer/ggml-vocab-starcoder.gguf"}) {
      const tokenizer& tok = vocab_tokenizer(name);
      for (int iter = 0; iter < 200; ++iter) {
        std::string s(rng() % 64, '\0');
        for (auto& c : s) c = static_cast<char>(rng());
        const auto ids = tok.tokenize(s, true, true);
        for (const auto id : ids) REQUIRE((id >= 0 && static_cast<std::size_t>(id) < tok.size()));
      }
    }
    // Bytes that are not UTF-8 become U+FFFD before byte-level BPE, as in the peer.
    std::string fixed;
    CHECK(sanitize_utf8("a\xff" "b", fixed));
    CHECK(fixed == "a\xEF\xBF\xBD" "b");
    CHECK_FALSE(sanitize_utf8("plain ascii ✓", fixed));
    // SentencePiece falls back to byte tokens for characters it does not know.
    const auto bytes = spm().tokenize("\xF0\x9F\xA6\x99", false, false);  // 🦙
    CHECK(spm().detokenize(bytes) == " \xF0\x9F\xA6\x99");
  }

  TEST_CASE("tokenizer: golden completions decode to the peer's text") {
    for (const char* model : {"stories260K", "tinystories-656k-f32", "rand-qwen2-gpt2vocab-f16", "rand-llama-spmvocab-q4_0"}) {
      SUBCASE(model) {
        const tokenizer tok = tokenizer::from_gguf(gguf_file::open(data_path(std::string("models/") + model + ".gguf")));
        const auto golden = nlohmann::json::parse(read_text(data_path(std::string("golden/") + model + ".json")));
        for (const auto& c : golden["cases"]) {
          if (c.contains("error")) continue;
          const auto ids = c["completion_tokens"].get<std::vector<token_id>>();
          CHECK(tok.detokenize(ids) == c["completion_text"].get<std::string>());
        }
      }
    }
  }

  TEST_CASE("tokenizer: streaming detokenizer holds back split UTF-8") {
    const tokenizer& tok = spm();
    // 🦙 has no token: four byte tokens. Nothing may come out until the fourth.
    const auto ids = tok.tokenize("ab \xF0\x9F\xA6\x99 c", false, false);
    stream_detokenizer stream(tok);
    std::string out;
    for (const auto id : ids) {
      const std::string piece = stream.push(id);
      CHECK(incomplete_utf8_suffix(piece) == 0);
      std::string valid;
      CHECK_FALSE(sanitize_utf8(piece, valid));  // every chunk is valid UTF-8 on its own
      out += piece;
    }
    stream.finish(out);
    CHECK(out == tok.detokenize(ids));
    SUBCASE("an unfinished sequence at the end becomes U+FFFD") {
      stream_detokenizer s(tok);
      std::string o = s.push(tok.vocabulary().byte_token[0xF0]);
      CHECK(o.empty());
      CHECK(s.held() == 1);
      s.finish(o);
      CHECK(o == "\xEF\xBF\xBD");
    }
    SUBCASE("incomplete suffix table") {
      CHECK(incomplete_utf8_suffix("abc") == 0);
      CHECK(incomplete_utf8_suffix("a\xE6\x97") == 2);
      CHECK(incomplete_utf8_suffix("a\xE6\x97\xA5") == 0);
      CHECK(incomplete_utf8_suffix("\xF0\x9F\xA6") == 3);
      CHECK(incomplete_utf8_suffix("\x97") == 0);
    }
  }

  TEST_CASE("tokenizer: SentencePiece per-word heaps give the same ids as one heap over the text") {
    const gguf_file f = gguf_file::open(data_path("tokenizer/ggml-vocab-llama-spm.gguf"));
    vocab whole = load_vocab(f);
    REQUIRE(whole.spm_words_independent);
    whole.spm_words_independent = false;
    const tokenizer fast = tokenizer::from_gguf(f);
    const tokenizer slow{std::move(whole)};
    std::mt19937 rng(11);
    const std::vector<std::string> atoms = {" ", "  ", "the", " quick", "▁", "x", "\n", "日本", "🙂", "'s", "123", "\xff"};
    for (int iter = 0; iter < 300; ++iter) {
      std::string s;
      for (int k = static_cast<int>(rng() % 30); k > 0; --k) s += atoms[rng() % atoms.size()];
      CAPTURE(s);
      CHECK(fast.tokenize(s, true, true) == slow.tokenize(s, true, true));
    }
  }

  TEST_CASE("tokenizer: fingerprints differ per vocab and are stable") {
    CHECK(gpt2().fingerprint() != spm().fingerprint());
    const tokenizer again = tokenizer::from_gguf(gguf_file::open(data_path("tokenizer/ggml-vocab-gpt-2.gguf")));
    CHECK(again.fingerprint() == gpt2().fingerprint());
    // Pinned: the fingerprint seeds the block hashes shared with other laneway versions.
    CHECK(gpt2().fingerprint() == 0x5ce526123e6517b4ULL);
    CHECK(spm().fingerprint() == 0x47e0bbf4a6e8f125ULL);
    // The qwen2 model reuses the gpt-2 vocab, merges and pre-tokenizer: same tokenizer identity.
    const tokenizer qwen = tokenizer::from_gguf(gguf_file::open(data_path("models/rand-qwen2-gpt2vocab-f16.gguf")));
    CHECK(qwen.fingerprint() == gpt2().fingerprint());
  }
}
