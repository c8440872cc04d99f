// The gateway's prompt hashes equal the worker's: the tokenizer is built from the model's GGUF
// bytes (as served by GET /v1/tokenizer), the chat template applied, and the hashes equal
// engine::block_hashes over the tokens the worker can cache (all but the last).
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

#include "backends/engine/block_hash.hpp"
#include "backends/engine/chat_template.hpp"
#include "backends/engine/gguf.hpp"
#include "backends/engine/tokenizer.hpp"
#include "gateway/prompt_hasher.hpp"

using namespace laneway;
using namespace laneway::gateway;

namespace {
const std::string model_path = std::string(LANEWAY_SOURCE_DIR) + "/backends/worker/models/stories260K.gguf";

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
}  // namespace

TEST_SUITE("gateway") {
  TEST_CASE("prompt tokens and block hashes as the worker computes them") {
    auto file = engine::gguf_file::open(model_path);
    auto tok = engine::tokenizer::from_gguf(file);
    const auto seed = tok.fingerprint();
    tokenizer_cache cache;
    CHECK_FALSE(cache.has(seed));
    CHECK(cache.begin_fetch(seed));
    CHECK_FALSE(cache.begin_fetch(seed));  // one fetch per tokenizer
    REQUIRE(cache.load(seed, file_bytes(model_path), "plain"));
    cache.end_fetch(seed);
    CHECK(cache.has(seed));

    inference_fields chat;
    chat.messages = {{"system", "Once upon a time there was a little girl named Lily who loved the sun."},
                     {"user", "Tell me a story about a dog and a ball in the park."}};
    prompt_tokens got;
    REQUIRE(cache.tokenize(seed, chat, got));
    std::vector<engine::chat_message> msgs{{chat.messages[0].role, chat.messages[0].content},
                                           {chat.messages[1].role, chat.messages[1].content}};
    auto want = tok.tokenize(engine::chat_template::by_name("plain").apply(msgs, true), true, true);
    CHECK(got.ids == want);
    REQUIRE(want.size() > 33);

    auto hashes = cacheable_block_hashes(got, seed, 16);
    CHECK(hashes.size() == (want.size() - 1) / 16);
    auto all = engine::block_hashes(want, seed, 16);
    for (std::size_t i = 0; i < hashes.size(); ++i) CHECK(hashes[i] == all[i]);

    inference_fields text;
    text.prompt_text = "Once upon a time";
    REQUIRE(cache.tokenize(seed, text, got));
    CHECK(got.ids == tok.tokenize("Once upon a time", true, true));
    CHECK_FALSE(cache.tokenize(seed + 1, text, got));  // unknown tokenizer
  }

  TEST_CASE("a tokenizer whose fingerprint is not the node's seed is refused") {
    tokenizer_cache cache;
    auto r = cache.load(0x1234, file_bytes(model_path), "plain");
    REQUIRE_FALSE(r);
    CHECK(r.err().message.find("fingerprint") != std::string::npos);
    auto garbage = cache.load(0x1234, "not a gguf", "plain");
    REQUIRE_FALSE(garbage);
    CHECK(garbage.err().message.find("does not load") != std::string::npos);
    CHECK(cache.size() == 0);
  }
}
