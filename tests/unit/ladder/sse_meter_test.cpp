// sse_meter: events split across reads, TTFT at the first non-empty content delta (the role
// chunk does not count), CRLF or LF endings, gaps between content deltas, usage from the final chunk, [DONE].
#include <doctest/doctest.h>

#include <string>

#include "tools/ladder/ladder_client.hpp"

using namespace laneway::ladder;
using namespace std::chrono_literals;

TEST_SUITE("ladder") {
  TEST_CASE("sse_meter: first token, gaps, usage, done; malformed event is an error") {
    auto t0 = ladder_clock::now();
    sse_meter m(t0);
    std::string why;
    auto feed = [&](const std::string& s, std::chrono::milliseconds at) {
      return m.feed(s.data(), s.size(), t0 + at, &why);
    };
    CHECK(feed("data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n", 5ms));
    CHECK(m.ttft_s() < 0);
    CHECK(feed("data: {\"choices\":[{\"delta\":{\"content\":\"Once\"}}]}\n", 100ms));
    CHECK(m.ttft_s() < 0);  // the event is not complete until the blank line
    CHECK(feed("\n", 120ms));
    CHECK(m.ttft_s() == doctest::Approx(0.120));
    CHECK(feed("data: {\"choices\":[{\"delta\":{\"content\":\" upon\"}}]}\r\n\r\n", 150ms) == true);
    CHECK(feed("data: {\"choices\":[{\"delta\":{\"content\":\" a\"}}]}\n\n", 200ms));
    CHECK(feed("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3}}\n\ndata: [DONE]\n\n", 210ms));
    CHECK(m.content_chunks() == 3);
    REQUIRE(m.gaps_s().size() == 2);  // CRLF-terminated events split like LF ones
    CHECK(m.gaps_s()[0] == doctest::Approx(0.030));
    CHECK(m.gaps_s()[1] == doctest::Approx(0.050));
    CHECK(m.prompt_tokens() == 7);
    CHECK(m.completion_tokens() == 3);
    CHECK(m.done());
    sse_meter bad(t0);
    std::string oops = "data: {oops\n\n";
    CHECK_FALSE(bad.feed(oops.data(), oops.size(), t0, &why));
    CHECK(why.find("not a JSON object") != std::string::npos);
  }
}
