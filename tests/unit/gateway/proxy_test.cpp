// Request pipeline pieces that need no sockets: route classification and body field checks.
#include <doctest/doctest.h>

#include "gateway/proxy.hpp"

using namespace laneway::gateway;

TEST_SUITE("gateway") {
  TEST_CASE("routes and methods") {
    struct row {
      std::string method, target;
      route r;
      bool allowed;
    };
    const row table[] = {
        {"POST", "/v1/chat/completions", route::chat_completions, true},
        {"POST", "/v1/chat/completions?x=1", route::chat_completions, true},
        {"GET", "/v1/chat/completions", route::chat_completions, false},
        {"POST", "/v1/completions", route::completions, true},
        {"POST", "/v1/embeddings", route::embeddings, true},
        {"GET", "/v1/models", route::models, true},
        {"POST", "/v1/models", route::models, false},
        {"GET", "/v1/models/llama", route::model, true},
        {"GET", "/health", route::health, true},
        {"GET", "/ready", route::ready, true},
        {"GET", "/metrics", route::metrics, true},
        {"DELETE", "/metrics", route::metrics, false},
        {"GET", "/v2/chat", route::other, false},
        {"GET", "/v1/models/", route::other, false},
        {"POST", "/v1/chat/completions/extra", route::other, false},
    };
    for (const auto& r : table) {
      CAPTURE(r.method);
      CAPTURE(r.target);
      auto m = classify(r.method, r.target);
      CHECK(m.r == r.r);
      CHECK(m.method_allowed == r.allowed);
    }
  }

  TEST_CASE("inference fields are type-checked and name the field") {
    struct row {
      std::string body;
      std::string param;  // "" = accepted
    };
    const row table[] = {
        {R"({"model":"m"})", ""},
        {R"({"model":"m","stream":true})", ""},
        {R"({"model":"m","stream":null})", ""},
        {R"({"model":"m","stream":"yes"})", "stream"},
        {R"({"model":7})", "model"},
        {R"({"model":""})", "model"},
        {R"({"messages":[]})", "model"},
        {R"([1,2])", ""},
        {R"({"model":)", ""},
        {"", ""},
    };
    for (const auto& r : table) {
      CAPTURE(r.body);
      auto f = read_inference_fields(r.body);
      bool should_pass = r.param.empty() && r.body.starts_with("{\"model\":\"m\"");
      CHECK(f.ok() == should_pass);
      if (!f.ok()) {
        CHECK(f.err().status() == 400);
        CHECK(f.err().param == r.param);
      }
    }
    auto ok = read_inference_fields(R"({"model":"qwen","stream":true,"extra":{"x":1}})");
    REQUIRE(ok);
    CHECK(ok->model == "qwen");
    CHECK(ok->stream);
  }
}
