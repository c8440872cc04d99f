// The relay's checks on node output: SSE event boundaries and JSON error offsets.
#include <doctest/doctest.h>

#include "gateway/relay_checks.hpp"

using namespace laneway::gateway;

TEST_SUITE("gateway") {
  TEST_CASE("sse_whole_events_length finds the last blank line") {
    struct row {
      std::string_view bytes;
      std::size_t want;
    };
    const row table[] = {
        {"", 0},
        {"data: {\"a\"", 0},
        {"data: 1\n", 0},
        {"data: 1\n\n", 9},
        {"data: 1\n\ndata: 2", 9},
        {"data: 1\n\ndata: 2\n\n", 18},
        {"event: error\ndata: {}\n\n", 23},
        {"data: 1\r\n\r\n", 11},
        {"data: 1\r\n\r\ndata: 2\r\n", 11},
        {": keep-alive\n\ndata: [DONE]\n\n", 28},
    };
    for (const auto& r : table) {
      CAPTURE(r.bytes);
      CHECK(sse_whole_events_length(r.bytes) == r.want);
    }
  }

  TEST_CASE("json_error_offset names where the JSON breaks") {
    CHECK_FALSE(json_error_offset(R"({"id":"x","choices":[1,2]})"));
    CHECK_FALSE(json_error_offset(" [1, 2] "));
    CHECK(json_error_offset("") == std::size_t{0});
    CHECK(json_error_offset(R"({"a":1,])") == std::size_t{7});
    CHECK(json_error_offset(R"({"a":1}x)") == std::size_t{7});
    CHECK(json_error_offset("SSH-2.0") == std::size_t{0});
    auto cut = json_error_offset(R"({"a":[1,2)");
    REQUIRE(cut);
    CHECK(*cut >= 8);
  }
}
