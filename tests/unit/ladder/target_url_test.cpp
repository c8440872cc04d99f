// The ladder's URL and list flags: https with its default port 443 and SNI only for names;
// comma lists with the flag named in the error; the model digest a server reports.
#include <doctest/doctest.h>

#include "tools/ladder/ladder_flags.hpp"
#include "tools/ladder/server_model.hpp"
#include "tools/ladder/target_url.hpp"

using namespace laneway::ladder;

TEST_SUITE("ladder") {
  TEST_CASE("target URL: http and https, default ports, prefixes, errors") {
    std::string why;
    auto a = parse_target_url("https://gateway.example/v1base/", &why);
    REQUIRE(a);
    CHECK(a->scheme == "https");
    CHECK(a->host == "gateway.example");
    CHECK(a->port == 443);
    CHECK(a->prefix == "/v1base");
    auto b = parse_target_url("https://127.0.0.1:8443", &why);
    REQUIRE(b);
    CHECK(b->port == 8443);
    auto c = parse_target_url("https://[::1]", &why);
    REQUIRE(c);
    CHECK(c->host == "::1");
    CHECK(c->port == 443);
    auto d = parse_target_url("http://localhost", &why);
    REQUIRE(d);
    CHECK(d->scheme == "http");
    CHECK(d->port == 80);
    CHECK_FALSE(parse_target_url("ftp://x:1", &why));
    CHECK_FALSE(parse_target_url("https://", &why));
    CHECK(is_ip_literal("127.0.0.1"));
    CHECK(is_ip_literal("::1"));
    CHECK_FALSE(is_ip_literal("localhost"));
  }

  TEST_CASE("comma lists: values in range, the flag named on error") {
    std::string why;
    auto v = parse_int_list("1,2,8", "--concurrency", 1, 4096, &why);
    REQUIRE(v);
    CHECK(*v == std::vector<int>{1, 2, 8});
    CHECK_FALSE(parse_int_list("1,,2", "--concurrency", 1, 4096, &why));
    CHECK(why == "--concurrency: '' is not a whole number from 1 to 4096");
    CHECK_FALSE(parse_int_list("12x", "--pid", 1, 1 << 30, &why));
    CHECK(why == "--pid: '12x' is not a whole number from 1 to 1073741824");
    CHECK_FALSE(parse_int_list("0", "--concurrency", 1, 4096, &why));
  }
}

TEST_SUITE("ladder") {
  TEST_CASE("server model digest: sha256 or digest of the served model in /v1/models, else none") {
    const char* ollama = R"({"object":"list","data":[{"id":"other","digest":"sha256:1111"},)"
                         R"({"id":"llama3","object":"model","digest":"sha256:abcd"}]})";
    CHECK(model_digest_from_models(ollama, "llama3") == "abcd");
    CHECK(model_digest_from_models(R"({"data":[{"id":"m","sha256":"ff00","digest":"x"}]})", "m") == "ff00");
    // laneway's worker: an id and a root identity, no file digest.
    CHECK(model_digest_from_models(R"({"data":[{"id":"stories260K","root":"54a7dfb7e0feee2f"}]})", "stories260K") == "");
    CHECK(model_digest_from_models(R"({"data":[{"id":"m","digest":"sha256:abcd"}]})", "n") == "");
    CHECK(model_digest_from_models("not json", "m") == "");
    CHECK(model_digest_from_models(R"({"data":{"id":"m"}})", "m") == "");
  }
}
