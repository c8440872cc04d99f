// HTTP plumbing: request-id rules, error mapping to status/JSON/label, hop-by-hop filtering.
#include <doctest/doctest.h>

#include <boost/beast/http/fields.hpp>
#include <nlohmann/json.hpp>
#include <set>

#include "gateway/http/error.hpp"
#include "gateway/http/headers.hpp"
#include "gateway/http/request_id.hpp"

using namespace laneway::http;

TEST_SUITE("gateway") {
  TEST_CASE("client request ids are kept only when valid") {
    CHECK(valid_request_id("a"));
    CHECK(valid_request_id("req-1.2_3:x"));
    CHECK(valid_request_id(std::string(128, 'z')));
    CHECK_FALSE(valid_request_id(""));
    CHECK_FALSE(valid_request_id(std::string(129, 'z')));
    for (auto bad : {"a b", "a/b", "ü", "a\r\nX: y", "<script>", "a,b"}) {
      CAPTURE(bad);
      CHECK_FALSE(valid_request_id(bad));
    }
    CHECK(accept_request_id("keep-me") == "keep-me");
    CHECK(accept_request_id("bad id") != "bad id");
  }

  TEST_CASE("generated request ids are UUID v4 and unique") {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
      auto id = new_request_id();
      REQUIRE(id.size() == 36);
      CHECK(id[14] == '4');
      CHECK(std::string("89ab").find(id[19]) != std::string::npos);
      CHECK(valid_request_id(id));
      seen.insert(id);
    }
    CHECK(seen.size() == 1000);
  }

  TEST_CASE("errors map to status, OpenAI body and label") {
    struct row {
      error_kind kind;
      unsigned status;
      std::string code;
      error_source source;
      bool retryable;
    };
    const row table[] = {
        {error_kind::bad_request, 400, "invalid_request", error_source::client, false},
        {error_kind::not_found, 404, "not_found", error_source::client, false},
        {error_kind::method_not_allowed, 405, "method_not_allowed", error_source::client, false},
        {error_kind::model_not_found, 404, "model_not_found", error_source::client, false},
        {error_kind::payload_too_large, 413, "payload_too_large", error_source::client, false},
        {error_kind::headers_too_large, 431, "headers_too_large", error_source::client, false},
        {error_kind::request_timeout, 408, "request_timeout", error_source::client, false},
        {error_kind::no_healthy_node, 503, "no_healthy_node", error_source::internal, false},
        {error_kind::upstream_connect, 502, "upstream_connect_failed", error_source::upstream, true},
        {error_kind::upstream_reset, 502, "upstream_reset", error_source::upstream, true},
        {error_kind::upstream_timeout, 504, "upstream_timeout", error_source::upstream, false},
        {error_kind::context_length_exceeded, 400, "context_length_exceeded", error_source::client, false},
        {error_kind::generation_timeout, 504, "generation_timeout", error_source::internal, false},
        {error_kind::internal, 500, "internal_error", error_source::internal, false},
    };
    for (const auto& r : table) {
      CAPTURE(r.code);
      auto e = make_error(r.kind, "msg \"quoted\"", r.kind == error_kind::bad_request ? "model" : "");
      CHECK(e.status() == r.status);
      CHECK(e.code() == r.code);
      CHECK(e.source() == r.source);
      CHECK(e.retryable == r.retryable);
      auto body = nlohmann::json::parse(e.body());
      CHECK(body["error"]["message"] == "msg \"quoted\"");
      CHECK(body["error"]["code"] == r.code);
      CHECK(body["error"]["type"] == (r.status < 500 ? "invalid_request_error" : "server_error"));
      if (r.kind == error_kind::bad_request) CHECK(body["error"]["param"] == "model");
      else CHECK(body["error"]["param"].is_null());
    }
  }

  TEST_CASE("a full node queue is a 429 of type rate_limit_error") {
    auto e = make_error(error_kind::overloaded, "the waiting queue is full (256 requests)");
    CHECK(e.status() == 429);
    CHECK(e.code() == "overloaded");
    CHECK(nlohmann::json::parse(e.body())["error"]["type"] == "rate_limit_error");
  }

  TEST_CASE("error bodies stay valid JSON for invalid UTF-8 in messages") {
    auto e = make_error(error_kind::bad_request, std::string("bad \xff\xfe byte"));
    CHECK_FALSE(nlohmann::json::parse(e.body(), nullptr, false).is_discarded());
  }

  TEST_CASE("hop-by-hop headers are not forwarded") {
    namespace bhttp = boost::beast::http;
    bhttp::fields in;
    in.set(bhttp::field::connection, "keep-alive, X-Secret-Hop");
    in.set(bhttp::field::keep_alive, "timeout=5");
    in.set(bhttp::field::transfer_encoding, "chunked");
    in.set(bhttp::field::content_length, "12");
    in.set(bhttp::field::host, "gw");
    in.set("X-Secret-Hop", "1");
    in.set("X-Request-Id", "abc");
    in.set(bhttp::field::authorization, "Bearer k");
    in.set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    in.set(bhttp::field::content_type, "application/json");
    bhttp::fields out;
    copy_end_to_end_fields(in, out);
    CHECK(out.count(bhttp::field::connection) == 0);
    CHECK(out.count(bhttp::field::keep_alive) == 0);
    CHECK(out.count(bhttp::field::transfer_encoding) == 0);
    CHECK(out.count(bhttp::field::content_length) == 0);
    CHECK(out.count(bhttp::field::host) == 0);
    CHECK(out.count("X-Secret-Hop") == 0);
    CHECK(out.count("X-Request-Id") == 0);
    CHECK(out[bhttp::field::authorization] == "Bearer k");
    CHECK(out["traceparent"] == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    CHECK(out[bhttp::field::content_type] == "application/json");
  }
}
