// API keys (SHA-256 vectors, bearer parsing, lookup) and lane classification, table-driven.
#include <doctest/doctest.h>

#include "gateway/api_keys.hpp"
#include "gateway/lanes.hpp"

using namespace laneway::gateway;

TEST_SUITE("gateway") {
  TEST_CASE("sha256 matches the FIPS 180-2 vectors") {
    CHECK(to_hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(to_hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    auto d = from_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
    REQUIRE(d);
    CHECK(*d == sha256("abc"));
    CHECK_FALSE(from_hex("abc"));
    CHECK_FALSE(from_hex(std::string(64, 'g')));
  }

  TEST_CASE("bearer tokens") {
    struct row {
      std::string header, key;
    };
    const row table[] = {
        {"Bearer sk-1", "sk-1"}, {"bearer sk-1", "sk-1"}, {"BEARER  sk-1 ", "sk-1"},
        {"Basic dXNlcg==", ""},  {"Bearer", ""},          {"", ""},
        {"Bearersk-1", ""},
    };
    for (const auto& r : table) {
      CAPTURE(r.header);
      CHECK(bearer_token(r.header) == r.key);
    }
  }

  TEST_CASE("key table finds keys by their hash only") {
    std::vector<key_config> keys{{"a", to_hex(sha256("sk-a")), "tenant-a", "chat", false},
                                 {"b", to_hex(sha256("sk-b")), "tenant-b", "", true}};
    key_table t(keys);
    CHECK(t.required());
    auto a = t.find("sk-a");
    REQUIRE(a);
    CHECK(a->tenant == "tenant-a");
    CHECK(a->lane == "chat");
    auto b = t.find("sk-b");
    REQUIRE(b);
    CHECK(b->allow_lane_header);
    CHECK_FALSE(t.find("sk-c"));
    CHECK_FALSE(t.find(""));
    CHECK_FALSE(t.find(to_hex(sha256("sk-a"))));  // the hash itself is not a key
    CHECK_FALSE(key_table().required());
  }

  TEST_CASE("lane classification order: key, X-Lane if allowed, match rules, fallback") {
    std::vector<lane_config> lanes(4);
    lanes[0].name = "chat";
    lanes[0].paths = {"/v1/chat/completions"};
    lanes[1].name = "embed";
    lanes[1].paths = {"/v1/embeddings"};
    lanes[1].models = {"e5"};
    lanes[2].name = "batch";
    lanes[3].name = "default";
    lane_table t(lanes);
    key_grant plain{"k", "t", "", false};
    key_grant pinned{"k", "t", "batch", false};
    key_grant chooser{"k", "t", "batch", true};
    struct row {
      const key_grant* key;
      std::string header, model, path, lane;  // lane "" = 400
    };
    const row table[] = {
        {nullptr, "", "m", "/v1/chat/completions", "chat"},
        {nullptr, "batch", "m", "/v1/chat/completions", "chat"},  // no key: X-Lane ignored
        {&plain, "", "e5", "/v1/embeddings", "embed"},
        {&plain, "", "other", "/v1/embeddings", "default"},  // every rule of a lane must hold
        {&plain, "", "m", "/v1/completions", "default"},
        {&pinned, "", "m", "/v1/chat/completions", "batch"},
        {&pinned, "chat", "m", "/v1/chat/completions", "batch"},  // not allowed: header ignored
        {&chooser, "chat", "m", "/v1/completions", "chat"},
        {&chooser, "nope", "m", "/v1/completions", ""},
    };
    for (const auto& r : table) {
      CAPTURE(r.header);
      CAPTURE(r.path);
      auto got = t.classify({r.key, r.header, r.model, r.path});
      if (r.lane.empty()) {
        REQUIRE_FALSE(got);
        CHECK(got.err().status() == 400);
        CHECK(got.err().param == "X-Lane");
      } else {
        REQUIRE(got);
        CHECK(t.lanes()[*got].name == r.lane);
      }
    }
  }

  TEST_CASE("without lanes there is one unlimited default lane") {
    lane_table t({});
    REQUIRE(t.lanes().size() == 1);
    auto got = t.classify({nullptr, "", "m", "/v1/completions"});
    REQUIRE(got);
    CHECK(t.lanes()[*got].name == "default");
    auto admission = t.admission_lanes();
    REQUIRE(admission.size() == 1);
    CHECK(admission[0].max_in_flight == 0);
    CHECK(admission[0].requests_per_s == 0);
  }
}
