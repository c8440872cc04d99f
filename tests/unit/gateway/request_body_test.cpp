// Every field the gateway reads from an inference body, type-checked: a table of wrong types,
// nulls and out-of-range values, each a 400 whose param names the field by its path.
#include <doctest/doctest.h>

#include <string>

#include "gateway/request_body.hpp"

using namespace laneway::gateway;

TEST_SUITE("gateway") {
  TEST_CASE("wrong types in the fields the gateway reads are 400s naming the field") {
    struct row {
      std::string fields;  // spliced into {"model":"m", ...}
      std::string param;   // "" = accepted
      std::string message_part;
    };
    const row table[] = {
        {R"("stream":null)", "", ""},
        {R"("stream":1)", "stream", "boolean"},
        {R"("stream_options":null)", "", ""},
        {R"("stream_options":true)", "stream_options", "object"},
        {R"("stream_options":{"include_usage":"yes"})", "stream_options.include_usage", "boolean"},
        {R"("stream_options":{"include_usage":null})", "", ""},
        {R"("max_tokens":null)", "", ""},
        {R"("max_tokens":"many")", "max_tokens", "non-negative integer"},
        {R"("max_tokens":-1)", "max_tokens", "non-negative integer"},
        {R"("max_tokens":2.5)", "max_tokens", "non-negative integer"},
        {R"("max_tokens":18446744073709551615)", "max_tokens", "non-negative integer"},
        {R"("max_completion_tokens":[1])", "max_completion_tokens", "non-negative integer"},
        {R"("user":null)", "", ""},
        {R"("user":42)", "user", "string"},
        {R"("messages":null)", "", ""},
        {R"("messages":"x")", "messages", "array"},
        {R"("messages":{"role":"user"})", "messages", "array"},
        {R"("messages":[1])", "messages[0]", "object"},
        {R"("messages":[{"role":"user","content":"a"},null])", "messages[1]", "object"},
        {R"("messages":[{"content":"x"}])", "messages[0].role", "string"},
        {R"("messages":[{"role":null,"content":"x"}])", "messages[0].role", "string"},
        {R"("messages":[{"role":7,"content":"x"}])", "messages[0].role", "string"},
        {R"("messages":[{"role":"user","content":null}])", "", ""},
        {R"("messages":[{"role":"user"}])", "", ""},
        {R"("messages":[{"role":"user","content":"a"},{"role":"user","content":"b"},{"role":"user","content":5}])",
         "messages[2].content", "must be a string or an array of content parts"},
        {R"("messages":[{"role":"user","content":{"text":"x"}}])", "messages[0].content", "content parts"},
        {R"("messages":[{"role":"user","content":["x"]}])", "messages[0].content[0]", "object"},
        {R"("messages":[{"role":"user","content":[{"text":"x"}]}])", "messages[0].content[0].type", "string"},
        {R"("messages":[{"role":"user","content":[{"type":1}]}])", "messages[0].content[0].type", "string"},
        {R"("messages":[{"role":"user","content":[{"type":"text"}]}])", "messages[0].content[0].text", "string"},
        {R"("messages":[{"role":"user","content":[{"type":"text","text":null}]}])", "messages[0].content[0].text", "string"},
        {R"("messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}])", "", ""},
        {R"("prompt":null)", "", ""},
        {R"("prompt":5)", "prompt", "string or an array"},
        {R"("prompt":{"text":"x"})", "prompt", "string or an array"},
        {R"("prompt":[1,-2])", "prompt[1]", "token id"},
        {R"("prompt":[1,2147483648])", "prompt[1]", "token id"},
        {R"("prompt":[1.5])", "prompt[0]", "token id"},
        {R"("prompt":[true])", "prompt[0]", "string, a token id"},
        {R"("prompt":[null])", "prompt[0]", "string, a token id"},
        {R"("prompt":[[1,2],[3,"x"]])", "prompt[1][1]", "token id"},
        {R"("prompt":[[1,2],[3]])", "", ""},
        {R"("prompt":["a",1])", "", ""},
    };
    for (const auto& r : table) {
      std::string body = R"({"model":"m",)" + r.fields + "}";
      CAPTURE(body);
      auto f = read_inference_fields(body);
      CHECK(f.ok() == r.param.empty());
      if (f.ok()) continue;
      CHECK(f.err().status() == 400);
      CHECK(f.err().param == r.param);
      CHECK(f.err().message.find("'" + r.param + "'") != std::string::npos);
      CHECK(f.err().message.find(r.message_part) != std::string::npos);
    }
  }

  TEST_CASE("accepted shapes keep what routing needs") {
    auto f = read_inference_fields(R"({"model":"m","max_tokens":5,"max_completion_tokens":9,"user":null,
      "messages":[{"role":"user","content":[{"type":"image_url","image_url":{}},{"type":"text","text":"hi"}]}]})");
    REQUIRE(f);
    CHECK(f->max_tokens == 9);
    REQUIRE(f->messages.size() == 1);
    CHECK(f->messages[0].content == "hi");
    auto ids = read_inference_fields(R"({"model":"m","prompt":[0,2147483647]})");
    REQUIRE(ids);
    CHECK(ids->prompt_tokens == std::vector<std::int32_t>{0, 2147483647});
  }
}
