// Conformance: the peer's tokenizer vectors (../shared/data/tokenizer/*.inp/.out, no BOS, no
// special parsing) and the golden prompt tokens of every non-error case (BOS and specials on).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "backends/engine/gguf.hpp"
#include "backends/engine/tokenizer.hpp"
#include "tests/unit/engine/test_data.hpp"

using namespace laneway::engine;
using laneway::engine::test::data_path;
using laneway::engine::test::read_text;

namespace {

// .inp: every case is followed by "\n__ggml_vocab_test__\n".
std::vector<std::string> read_cases(const std::string& path) {
  const std::string all = read_text(path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> cases;
  std::size_t start = 0;
  for (std::size_t at; (at = all.find(sep, start)) != std::string::npos; start = at + sep.size()) {
    cases.push_back(all.substr(start, at - start));
  }
  return cases;
}

std::vector<std::vector<token_id>> read_expected(const std::string& path) {
  std::istringstream in(read_text(path));
  std::vector<std::vector<token_id>> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ids(line);
    std::vector<token_id> row;
    for (long id; ids >> id;) row.push_back(static_cast<token_id>(id));
    out.push_back(std::move(row));
  }
  return out;
}

std::string join(const std::vector<token_id>& ids) {
  std::string s;
  for (const auto id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
  return s;
}

}  // namespace

TEST_SUITE("engine") {
  TEST_CASE("tokenizer: the peer's conformance vectors") {
    for (const char* name : {"gpt-2", "llama-spm", "starcoder", "deepseek-coder"}) {
      SUBCASE(name) {
        const std::string base = data_path(std::string("tokenizer/ggml-vocab-") + name + ".gguf");
        const tokenizer tok = tokenizer::from_gguf(gguf_file::open(base));
        const auto cases = read_cases(base + ".inp");
        const auto expected = read_expected(base + ".out");
        REQUIRE(cases.size() == 46);
        REQUIRE(expected.size() == cases.size());
        int passed = 0;
        for (std::size_t i = 0; i < cases.size(); ++i) {
          const auto got = tok.tokenize(cases[i], /*add_special=*/false, /*parse_special=*/false);
          if (got == expected[i]) {
            ++passed;
          } else {
            FAIL_CHECK("case " << i << " '" << cases[i] << "'\n  want " << join(expected[i]) << "\n  got  "
                                   << join(got));
          }
          // Round trip: decoding gives the input back (SentencePiece adds a leading space).
          if (std::string(name) != "llama-spm") CHECK(tok.detokenize(got) == cases[i]);
        }
        CHECK(passed == static_cast<int>(cases.size()));
      }
    }
  }

  TEST_CASE("tokenizer: golden prompt tokens of every model") {
    for (const char* model : {"stories260K", "tinystories-656k-f32", "tinystories-656k-q8_0",
                              "rand-qwen2-gpt2vocab-f16", "rand-llama-spmvocab-q4_0"}) {
      SUBCASE(model) {
        const tokenizer tok = tokenizer::from_gguf(gguf_file::open(data_path(std::string("models/") + model + ".gguf")));
        const auto golden = nlohmann::json::parse(read_text(data_path(std::string("golden/") + model + ".json")));
        int checked = 0;
        for (const auto& c : golden["cases"]) {
          if (c.contains("error")) continue;
          const auto want = c["prompt_tokens"].get<std::vector<token_id>>();
          const auto got = tok.tokenize(c["prompt"].get<std::string>(), true, true);
          CHECK_MESSAGE(got == want, "prompt '" << c["prompt"].get<std::string>() << "'\n  want " << join(want)
                                                << "\n  got  " << join(got));
          ++checked;
        }
        CHECK(checked >= 4);
      }
    }
  }
}
