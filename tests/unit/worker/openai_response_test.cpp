// Response shapes: chat.completion, streamed chunks, usage with cached tokens, logprobs per
// endpoint, and invalid UTF-8 that must not break the JSON.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "backends/engine/tokenizer.hpp"
#include "backends/worker/openai_response.hpp"

using namespace laneway::worker;
using json = nlohmann::json;

namespace {
json data_of(const std::string& event) {
  REQUIRE(event.rfind("data: ", 0) == 0);
  REQUIRE(event.size() > 8);
  REQUIRE(event.substr(event.size() - 2) == "\n\n");
  return json::parse(event.substr(6, event.size() - 8));
}
}  // namespace

TEST_SUITE("worker") {
  TEST_CASE("chat: full object, chunks and usage") {
    response_builder b(api_kind::chat, "chatcmpl-r1", "m", 1700000000);
    usage_counts u{10, 4, 8};
    json full = json::parse(b.full("Hello", "stop", u, nullptr));
    CHECK(full["object"] == "chat.completion");
    CHECK(full["id"] == "chatcmpl-r1");
    CHECK(full["choices"][0]["message"]["role"] == "assistant");
    CHECK(full["choices"][0]["message"]["content"] == "Hello");
    CHECK(full["choices"][0]["finish_reason"] == "stop");
    CHECK(full["usage"]["total_tokens"] == 14);
    CHECK(full["usage"]["prompt_tokens_details"]["cached_tokens"] == 8);

    json first = data_of(b.first_chunk());
    CHECK(first["object"] == "chat.completion.chunk");
    CHECK(first["choices"][0]["delta"]["role"] == "assistant");
    json delta = data_of(b.delta_chunk("Hel", nullptr));
    CHECK(delta["choices"][0]["delta"]["content"] == "Hel");
    CHECK(delta["choices"][0]["finish_reason"].is_null());
    json last = data_of(b.final_chunk("length", nullptr));
    CHECK(last["choices"][0]["finish_reason"] == "length");
    CHECK(last["choices"][0]["delta"].empty());
    json usage = data_of(b.usage_chunk(u));
    CHECK(usage["choices"].empty());
    CHECK(usage["usage"]["completion_tokens"] == 4);
    CHECK(response_builder::done_event() == "data: [DONE]\n\n");
  }

  TEST_CASE("completion: text_completion objects carry text") {
    response_builder b(api_kind::completion, "cmpl-1", "m", 1);
    CHECK(b.first_chunk().empty());
    json delta = data_of(b.delta_chunk(" upon", nullptr));
    CHECK(delta["object"] == "text_completion");
    CHECK(delta["choices"][0]["text"] == " upon");
    json full = json::parse(b.full("Once upon", "length", {}, nullptr));
    CHECK(full["choices"][0]["text"] == "Once upon");
  }

  TEST_CASE("invalid UTF-8 in generated text is replaced, not thrown") {
    response_builder b(api_kind::chat, "x", "m", 1);
    std::string bad = "ok \xff\xfe";
    json full = json::parse(b.full(bad, "stop", {}, nullptr));
    CHECK(full["choices"][0]["message"]["content"].get<std::string>().find("ok ") == 0);
  }
}
