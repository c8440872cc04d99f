// Prompt mixes from TOML: the built-in mix equals conf/ladder-mix.toml byte for byte, a file
// mix parses into entries, rotation and request bodies, and each mistake is an error naming the
// file and the key.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "gateway/http/config_error.hpp"
#include "tools/ladder/digest.hpp"
#include "tools/ladder/mix_file.hpp"

using namespace laneway::ladder;

namespace {

std::string error_of(const std::string& text) {
  try {
    parse_mix_toml(text, "team.toml");
  } catch (const laneway::http::config_error& e) {
    return e.what();
  }
  return "";
}

const char* good = R"(name = "team-mix"
version = 3
filler = "abc "
[[entries]]
kind = "chat"
weight = 3
messages = [{ role = "user", content = "hi" }]
[[entries]]
kind = "long"
weight = 1
stream = false
max_tokens = 8
generated_chars = 10
messages = [{ role = "system", content = "sum" }]
)";

}  // namespace

TEST_SUITE("ladder") {
  TEST_CASE("mix: the built-in mix is conf/ladder-mix.toml") {
    std::ifstream in(std::string(LANEWAY_SOURCE_DIR) + "/conf/ladder-mix.toml", std::ios::binary);
    REQUIRE(in);
    std::ostringstream text;
    text << in.rdbuf();
    CHECK(text.str() == builtin_mix_toml());
    auto file = load_mix_file(std::string(LANEWAY_SOURCE_DIR) + "/conf/ladder-mix.toml");
    const auto& b = builtin_mix();
    CHECK(file.label() == b.label());
    CHECK(sha256_hex(file.toml_text) == sha256_hex(b.toml_text));
    REQUIRE(file.entries.size() == b.entries.size());
    for (std::size_t i = 0; i < b.entries.size(); ++i) {
      CHECK(file.entries[i].kind == b.entries[i].kind);
      CHECK(file.entries[i].sent.size() == b.entries[i].sent.size());
    }
    CHECK(b.label() == "ladder-mix-v2");
    CHECK(b.summary() == "ladder-mix-v2: short_chat 5/10, agent_call 3/10, long_summarise 2/10");
    CHECK(b.entries[2].sent.back().content.size() == 1280);
    CHECK_FALSE(b.entries[2].short_prompt);
    CHECK(b.entries[0].short_prompt);
  }

  TEST_CASE("mix: a file mix — defaults, generated prompt, per-entry stream, rotation") {
    auto m = parse_mix_toml(good, "team.toml");
    CHECK(m.label() == "team-mix-v3");
    CHECK(m.source == "team.toml");
    REQUIRE(m.entries.size() == 2);
    CHECK(m.entries[0].short_prompt);
    CHECK_FALSE(m.entries[1].short_prompt);  // generated prompts are long unless said otherwise
    CHECK(m.entries[0].streams(true));
    CHECK_FALSE(m.entries[1].streams(true));
    REQUIRE(m.entries[1].sent.size() == 2);
    CHECK(m.entries[1].sent[1].role == "user");
    CHECK(m.entries[1].sent[1].content == "abc abc ab");
    CHECK(m.rotation.size() == 4);
    std::map<std::string, int> seen;
    for (int seq = 0; seq < 4; ++seq) ++seen[m.pick(0, seq).kind];
    CHECK(seen["chat"] == 3);
    CHECK(seen["long"] == 1);
    auto body = request_body(m.entries[1], "m", 64, false);
    CHECK(body.find("\"max_tokens\":8") != std::string::npos);
    CHECK(body.find("abc abc ab") != std::string::npos);
  }

  TEST_CASE("mix: errors name the file and the key") {
    struct bad_case {
      std::string text, message;
    };
    const bad_case cases[] = {
        {"version = 1\n[[entries]]\nkind=\"a\"\nweight=1\nmessages=[{role=\"user\",content=\"x\"}]\n",
         "team.toml: name: is required"},
        {"name = \"x\"\n[[entries]]\nkind=\"a\"\nweight=1\nmessages=[{role=\"user\",content=\"x\"}]\n",
         "team.toml: version: is required"},
        {"name = \"x\"\nversion = 1\n", "team.toml: entries: is required"},
        {"name = \"x\"\nversion = 1\n[[entries]]\nkind=\"a\"\nweight=0\nmessages=[{role=\"user\",content=\"x\"}]\n",
         "team.toml: entries[0].weight: must be between 1 and 1000 (got 0)"},
        {"name = \"x\"\nversion = 1\n[[entries]]\nkind=\"a\"\nmessages=[{role=\"user\",content=\"x\"}]\n",
         "team.toml: entries[0].weight: is required"},
        {"name = \"x\"\nversion = 1\n[[entries]]\nkind=\"a\"\nweight=1\n", "team.toml: entries[0].messages: is required"},
        {"name = \"x\"\nversion = 1\n[[entries]]\nkind=\"a\"\nweight=1\nmessages=[{role=\"robot\",content=\"x\"}]\n",
         "team.toml: entries[0].messages[0].role: must be system, user or assistant (got 'robot')"},
        {"name = \"x\"\nversion = 1\n[[entries]]\nkind=\"a\"\nweight=1\nmesages=[]\n", "team.toml: entries[0].mesages: unknown key"},
        {"name = \"x\"\nversion = 1\n[[entries]]\nkind=\"a\"\nweight=1\ngenerated_chars=5\n",
         "team.toml: entries[0].generated_chars: needs a non-empty top-level filler"},
        {"name = \"x\"\nversion = 1\n[[entries]]\nkind=\"A B\"\nweight=1\nmessages=[{role=\"user\",content=\"x\"}]\n",
         "team.toml: entries[0].kind: must be 1-64 characters"},
        {"name = \"x\"\nversion = \"one\"\n", "team.toml: version: must be an integer"},
        {"name = \"x\"\nversion = 1\nentries = 3\n", "team.toml: entries: must be a non-empty array of tables"},
        {"name = \"x\"\nversion = 1\n[[entries]]\nkind=\"a\"\nweight=1\nstream=\"yes\"\nmessages=[{role=\"user\",content=\"x\"}]\n",
         "team.toml: entries[0].stream: must be true or false"},
        {"name = \"x\"\nversion = 1\n[[entries]]\nkind=\"a\"\nweight=1\nmessages=[{role=\"user\",content=\"x\"}]\n"
         "[[entries]]\nkind=\"a\"\nweight=1\nmessages=[{role=\"user\",content=\"y\"}]\n",
         "team.toml: entries[1].kind: 'a' is already entries[0]'s kind"},
        {"name = \"x\"\nversion = 1\ncolour = 2\n[[entries]]\nkind=\"a\"\nweight=1\nmessages=[{role=\"user\",content=\"x\"}]\n",
         "team.toml: colour: unknown key"},
        {"name = \"x\nversion = 1\n", "team.toml:1:"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.text);
      auto msg = error_of(c.text);
      CHECK(msg.rfind(c.message, 0) == 0);
      if (msg.rfind(c.message, 0) != 0) MESSAGE(msg);
    }
    try {
      load_mix_file("/nonexistent/mix.toml");
      FAIL("no error");
    } catch (const laneway::http::config_error& e) {
      CHECK(std::string(e.what()) == "/nonexistent/mix.toml: cannot open the mix file");
    }
  }

  TEST_CASE("digest: SHA-256 of text and of a file") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    std::string why;
    auto d = sha256_file(std::string(LANEWAY_SOURCE_DIR) + "/conf/ladder-mix.toml", &why);
    REQUIRE(d);
    CHECK(*d == sha256_hex(builtin_mix_toml()));
    CHECK_FALSE(sha256_file("/nonexistent/model.gguf", &why));
    CHECK(why == "/nonexistent/model.gguf: cannot open the file to digest it");
  }
}
