// Chat templates: exact ChatML / Llama 3 / plain renderings, detection from Jinja text, names.
#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

#include "backends/engine/chat_template.hpp"
#include "backends/engine/gguf.hpp"
#include "backends/engine/tokenizer.hpp"
#include "tests/unit/engine/test_data.hpp"

using namespace laneway::engine;

TEST_SUITE("engine") {
  TEST_CASE("chat template: renderings") {
    const std::vector<chat_message> msgs = {{"system", "Be brief."}, {"user", " Hi there \n"}};
    struct row {
      const char* name;
      bool gen;
      const char* expect;
    };
    const row rows[] = {
        {"chatml", true,
         "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n Hi there \n<|im_end|>\n<|im_start|>assistant\n"},
        {"chatml", false, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n Hi there \n<|im_end|>\n"},
        {"llama3", true,
         "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
         "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
         "<|start_header_id|>assistant<|end_header_id|>\n\n"},
        {"plain", true, "system: Be brief.\nuser:  Hi there \n\nassistant:"},
    };
    for (const auto& r : rows) {
      CAPTURE(r.name);
      CHECK(chat_template::by_name(r.name).apply(msgs, r.gen) == r.expect);
    }
  }

  TEST_CASE("chat template: detection and names") {
    CHECK(chat_template::detect("{% for m in messages %}<|im_start|>{{ m.role }}").family() == chat_family::chatml);
    CHECK(chat_template::detect("{{ '<|start_header_id|>' + m['role'] }}").family() == chat_family::llama3);
    const auto fallback = chat_template::detect(std::nullopt);
    CHECK(fallback.family() == chat_family::chatml);
    CHECK_FALSE(fallback.recognised());
    CHECK_FALSE(chat_template::detect("[INST] {{ m }} [/INST]").recognised());
    CHECK(chat_template::find("llama3")->name() == "llama3");
    CHECK_FALSE(chat_template::find("vicuna").has_value());
    CHECK_THROWS_WITH_AS(chat_template::by_name("vicuna"),
                         doctest::Contains("unknown chat template 'vicuna' (known: chatml, llama3, plain)"),
                         std::invalid_argument);
    // The TinyStories models carry no template: the ChatML fallback.
    const gguf_file f = gguf_file::open(test::data_path("models/tinystories-656k-f32.gguf"));
    CHECK(chat_template::for_model(f).family() == chat_family::chatml);
    CHECK(chat_template::for_model(f, "plain").family() == chat_family::plain);
  }

  TEST_CASE("chat template: ChatML control tokens become single ids when the vocab has them") {
    // The gpt-2 vocab has no <|im_start|>, so it is plain text there; <|endoftext|> is a control token.
    const tokenizer tok = tokenizer::from_gguf(gguf_file::open(test::data_path("tokenizer/ggml-vocab-gpt-2.gguf")));
    const auto ids = tok.tokenize("<|endoftext|>" + chat_template::by_name("plain").apply(std::vector<chat_message>{{"user", "hi"}}), true, true);
    REQUIRE_FALSE(ids.empty());
    CHECK(ids.front() == 50256);
  }
}
