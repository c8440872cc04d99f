// OpenAI request parsing: accepted shapes, and every malformed body answered 400 naming the field.
#include <doctest/doctest.h>

#include "backends/worker/openai_request.hpp"

using namespace laneway::worker;

TEST_SUITE("worker") {
  TEST_CASE("a chat request with sampling fields parses into the engine's parameters") {
    auto r = parse_chat_request(R"({"model":"m","messages":[{"role":"system","content":"be brief"},
      {"role":"user","content":[{"type":"text","text":"hi "},{"type":"text","text":"there"}]}],
      "temperature":0.5,"top_p":0.9,"top_k":40,"min_p":0.05,"seed":7,"max_tokens":12,"stop":["\n\n","END"],
      "presence_penalty":0.1,"frequency_penalty":-0.2,"repetition_penalty":1.1,"logprobs":true,"top_logprobs":3,
      "stream":true,"stream_options":{"include_usage":true},"user":"alice","n":1,"ignore_eos":true})");
    REQUIRE(r.ok());
    const auto& q = *r;
    CHECK(q.kind == api_kind::chat);
    CHECK(q.model == "m");
    REQUIRE(q.messages.size() == 2);
    CHECK(q.messages[1].content == "hi there");
    CHECK(q.sampling.temperature == doctest::Approx(0.5));
    CHECK(q.sampling.top_k == 40);
    CHECK(q.sampling.seed == 7u);
    CHECK(q.sampling.max_tokens == 12);
    CHECK(q.sampling.logprobs);
    CHECK(q.sampling.top_logprobs == 3);
    CHECK(q.stop.size() == 2);
    CHECK(q.stream);
    CHECK(q.include_usage);
    CHECK(q.ignore_eos);
    CHECK(q.user == "alice");
  }

  TEST_CASE("max_completion_tokens wins over max_tokens; developer is a system message") {
    auto r = parse_chat_request(R"({"messages":[{"role":"developer","content":"x"}],"max_tokens":5,"max_completion_tokens":9})");
    REQUIRE(r.ok());
    CHECK(r->sampling.max_tokens == 9);
    CHECK(r->messages[0].role == "system");
  }

  TEST_CASE("completion prompts: a string, one string in an array, or token ids") {
    auto a = parse_completion_request(R"({"prompt":"Once upon","max_tokens":3,"logprobs":2,"echo":true})");
    REQUIRE(a.ok());
    CHECK(a->prompt_text == "Once upon");
    CHECK(a->sampling.logprobs);
    CHECK(a->sampling.top_logprobs == 2);
    CHECK(a->echo);
    auto b = parse_completion_request(R"({"prompt":["Once"]})");
    REQUIRE(b.ok());
    CHECK(b->prompt_text == "Once");
    auto c = parse_completion_request(R"({"prompt":[1, 400, 9]})");
    REQUIRE(c.ok());
    CHECK(c->prompt_tokens == std::vector<int32_t>{1, 400, 9});
  }

  TEST_CASE("malformed bodies are 400s naming the field") {
    struct row {
      const char* body;
      const char* param;
      const char* message_part;
      bool chat = true;
    };
    const row table[] = {
        {"{not json", "", "not valid JSON"},
        {"[1,2]", "", "JSON object"},
        {R"({"model":"m"})", "messages", "required"},
        {R"({"messages":"hi"})", "messages", "array"},
        {R"({"messages":[]})", "messages", "empty"},
        {R"({"messages":[{"content":"x"}]})", "messages[0].role", "string"},
        {R"({"messages":[{"role":"wizard","content":"x"}]})", "messages[0].role", "wizard"},
        {R"({"messages":[{"role":"user","content":5}]})", "messages[0].content", "string"},
        {R"({"messages":[{"role":"user","content":[{"type":"image_url"}]}]})", "messages[0].content", "image_url"},
        {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":-1})", "max_tokens", "between 1"},
        {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":"ten"})", "max_tokens", "integer"},
        {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":2.5})", "max_tokens", "integer"},
        {R"({"messages":[{"role":"user","content":"x"}],"temperature":"hot"})", "temperature", "number"},
        {R"({"messages":[{"role":"user","content":"x"}],"temperature":3})", "temperature", "between 0 and 2"},
        {R"({"messages":[{"role":"user","content":"x"}],"top_p":0})", "top_p", "(0, 1]"},
        {R"({"messages":[{"role":"user","content":"x"}],"stream":"yes"})", "stream", "boolean"},
        {R"({"messages":[{"role":"user","content":"x"}],"stop":[1]})", "stop", "string"},
        {R"({"messages":[{"role":"user","content":"x"}],"n":2})", "n", "must be 1"},
        {R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]})", "tools", "not supported"},
        {R"({"messages":[{"role":"user","content":"x"}],"logit_bias":{"5":1}})", "logit_bias", "not supported"},
        {R"({"messages":[{"role":"user","content":"x"}],"top_logprobs":3})", "top_logprobs", "requires logprobs"},
        {R"({"messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":21})", "top_logprobs", "between 0 and 20"},
        {R"({"messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}})", "stream_options", "stream is true"},
        {R"({"messages":[{"role":"user","content":"x"}],"frobnicate":1})", "frobnicate", "Unrecognized request argument"},
        {R"({"messages":[{"role":"user","content":"x"}],"seed":"x"})", "seed", "integer"},
        {R"({"prompt":5})", "prompt", "string or an array", false},
        {R"({"prompt":["a","b"]})", "prompt", "batch", false},
        {R"({"prompt":[1,-2]})", "prompt", "non-negative", false},
        {R"({"max_tokens":3})", "prompt", "required", false},
        {R"({"prompt":"x","logprobs":true})", "logprobs", "integer", false},
        {R"({"prompt":"x","echo":1})", "echo", "boolean", false},
        {R"({"prompt":"x","suffix":"y"})", "suffix", "not supported", false},
    };
    for (const auto& r : table) {
      CAPTURE(r.body);
      auto res = r.chat ? parse_chat_request(r.body) : parse_completion_request(r.body);
      REQUIRE_FALSE(res.ok());
      CHECK(res.err().status() == 400);
      CHECK(res.err().param == r.param);
      CHECK(res.err().message.find(r.message_part) != std::string::npos);
    }
  }

  TEST_CASE("tokenize and detokenize bodies") {
    auto t = parse_tokenize_request(R"({"prompt":"hello","add_special_tokens":false})");
    REQUIRE(t.ok());
    CHECK(t->prompt == "hello");
    CHECK_FALSE(t->add_special_tokens);
    CHECK_FALSE(parse_tokenize_request(R"({})").ok());
    CHECK_FALSE(parse_tokenize_request(R"({"prompt":"a","messages":[{"role":"user","content":"b"}]})").ok());
    auto d = parse_detokenize_request(R"({"tokens":[1,2,3]})");
    REQUIRE(d.ok());
    CHECK(d->size() == 3);
    CHECK(parse_detokenize_request(R"({"tokens":["a"]})").err().param == "tokens");
  }
}
