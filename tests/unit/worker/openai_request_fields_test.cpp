// Every field the worker reads, one row each: a value of the wrong type and one out of range are
// 400s naming the field; null is the same as absent; a good value is accepted.
#include <doctest/doctest.h>

#include <string>

#include "backends/worker/openai_request.hpp"

using namespace laneway::worker;

namespace {

struct field_row {
  const char* field;
  const char* good;
  const char* wrong_type;
  const char* out_of_range;  // nullptr: the field has no range
};

// Fields both endpoints read (sampling and streaming), then each endpoint's own.
const field_row shared_fields[] = {
    {"model", R"("m")", "5", nullptr},
    {"user", R"("u")", "[]", nullptr},
    {"temperature", "0.7", R"("hot")", "2.5"},
    {"top_p", "0.9", "true", "1.5"},
    {"top_k", "40", R"("40")", "-2"},
    {"min_p", "0.1", "{}", "-0.1"},
    {"presence_penalty", "0.5", R"("x")", "-3"},
    {"frequency_penalty", "0.5", "[0.5]", "2.1"},
    {"repetition_penalty", "1.1", R"("1.1")", "11"},
    {"seed", "7", "1.5", nullptr},
    {"max_tokens", "8", R"("8")", "0"},
    {"stop", R"(["\n"])", "5", nullptr},
    {"stop_token_ids", "[2]", R"("2")", "[-1]"},
    {"ignore_eos", "true", "1", nullptr},
    {"stream", "false", R"("no")", nullptr},
    {"n", "1", R"("1")", "2"},
    {"logit_bias", "{}", "[]", nullptr},
};
const field_row chat_fields[] = {
    {"max_completion_tokens", "8", "8.5", "2147483648"},  // chat only (completions: unrecognized)
    {"logprobs", "false", "1", nullptr},
    {"top_logprobs", "0", R"("3")", "21"},
    {"response_format", R"({"type":"text"})", R"("json")", nullptr},
    {"tools", "[]", "{}", nullptr},
    {"tool_choice", R"("none")", "1", nullptr},
};
const field_row completion_fields[] = {
    {"logprobs", "2", "true", "21"},
    {"echo", "true", R"("yes")", nullptr},
    {"best_of", "1", R"("1")", "3"},
};

std::string with(const char* base, const char* field, const char* value) {
  return std::string(base) + ",\"" + field + "\":" + value + "}";
}

void check_fields(const field_row* rows, std::size_t n, const char* base, bool chat) {
  auto parse = [chat](const std::string& body) { return chat ? parse_chat_request(body) : parse_completion_request(body); };
  for (std::size_t i = 0; i < n; ++i) {
    const field_row& r = rows[i];
    const std::string field = r.field;
    CAPTURE(field);
    CHECK(parse(with(base, r.field, r.good)).ok());
    CHECK(parse(with(base, r.field, "null")).ok());
    for (const char* bad : {r.wrong_type, r.out_of_range}) {
      if (!bad) continue;
      const std::string value = bad;
      CAPTURE(value);
      auto got = parse(with(base, r.field, bad));
      REQUIRE_FALSE(got.ok());
      CHECK(got.err().status() == 400);
      CHECK(got.err().param == r.field);
      CHECK(got.err().message.find(r.field) != std::string::npos);
    }
  }
}

}  // namespace

TEST_SUITE("worker") {
  TEST_CASE("each field of a chat request: wrong type, null, out of range") {
    const char* base = R"({"messages":[{"role":"user","content":"x"}])";
    check_fields(shared_fields, std::size(shared_fields), base, true);
    check_fields(chat_fields, std::size(chat_fields), base, true);
  }

  TEST_CASE("each field of a completion request: wrong type, null, out of range") {
    const char* base = R"({"prompt":"x")";
    check_fields(shared_fields, std::size(shared_fields), base, false);
    check_fields(completion_fields, std::size(completion_fields), base, false);
  }

  TEST_CASE("messages: the path of the offending part is named") {
    struct row {
      const char* messages;
      const char* param;
    };
    const row table[] = {
        {R"(null)", "messages"},
        {R"({"role":"user"})", "messages"},
        {R"([null])", "messages[0]"},
        {R"([{"role":"user","content":"a"},{"role":"user","content":"b"},{"role":"user","content":{}}])", "messages[2].content"},
        {R"([{"role":"user","content":[{"type":"text","text":5}]}])", "messages[0].content"},
        {R"([{"role":"user","content":["x"]}])", "messages[0].content"},
        {R"([{"role":["user"],"content":"x"}])", "messages[0].role"},
    };
    for (const auto& t : table) {
      std::string body = std::string(R"({"messages":)") + t.messages + "}";
      CAPTURE(body);
      auto got = parse_chat_request(body);
      REQUIRE_FALSE(got.ok());
      CHECK(got.err().param == t.param);
    }
    auto ok = parse_chat_request(R"({"messages":[{"role":"assistant","content":null},{"role":"user","content":"x"}]})");
    CHECK(ok.ok());
  }

  TEST_CASE("stream_options and tokenize fields") {
    CHECK(parse_chat_request(R"({"messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":[]})").err().param ==
          "stream_options");
    CHECK(parse_chat_request(R"({"messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":1}})")
              .err().param == "stream_options.include_usage");
    CHECK(parse_chat_request(R"({"messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":null}})")
              .ok());
    CHECK(parse_tokenize_request(R"({"prompt":5})").err().param == "prompt");
    CHECK(parse_tokenize_request(R"({"prompt":"a","add_special_tokens":"no"})").err().param == "add_special_tokens");
    CHECK(parse_tokenize_request(R"({"prompt":"a","add_generation_prompt":0})").err().param == "add_generation_prompt");
    CHECK(parse_detokenize_request(R"({"tokens":5})").err().param == "tokens");
    CHECK(parse_detokenize_request(R"({"tokens":[4294967296]})").err().param == "tokens");
    CHECK(parse_detokenize_request(R"({"tokens":null})").err().param == "tokens");
  }
}
