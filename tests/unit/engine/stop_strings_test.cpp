// Stop-string tests: matches across 1-byte and 1-character pieces, held-back prefixes released
// when they turn out not to be a stop, overlapping candidates, the earliest match winning, UTF-8.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "backends/engine/stop_strings.hpp"

using namespace laneway::engine;

namespace {

struct outcome {
  std::string text;  // everything emitted, in order
  bool stopped = false;
  int stop_index = -1;
  std::size_t max_held = 0;
};

// Feeds `pieces` one by one; at the end (no stop) calls finish().
outcome run(const std::vector<std::string>& stops, const std::vector<std::string>& pieces) {
  stop_matcher m(stops);
  outcome o;
  for (const auto& p : pieces) {
    const auto s = m.push(p);
    o.text += s.text;
    o.max_held = std::max(o.max_held, m.held_back());
    if (s.stopped) {
      o.stopped = true;
      o.stop_index = s.stop_index;
    }
  }
  o.text += m.finish();
  return o;
}

std::vector<std::string> bytes_of(const std::string& s) {
  std::vector<std::string> out;
  for (char c : s) out.emplace_back(1, c);
  return out;
}

// Splits UTF-8 text into whole characters.
std::vector<std::string> chars_of(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace

TEST_SUITE("engine") {
  TEST_CASE("stop strings: matches across pieces, text before the stop is emitted") {
    struct row {
      std::vector<std::string> stops;
      std::string text;
      std::string expect;
      int stop_index;  // -1: no stop
    };
    const row rows[] = {
        {{"</s>"}, "Hello world</s>ignored", "Hello world", 0},
        {{"\n\n"}, "line one\nline two\n\nrest", "line one\nline two", 0},
        {{"abc"}, "ababcab", "ab", 0},            // overlapping self-prefix
        {{"aab"}, "aaab", "a", 0},                // held "aa" then "aab" starts one later
        {{"xyz", "yz"}, "wxyz!", "w", 0},         // earliest start wins
        {{"yz", "xyz"}, "wxyz!", "w", 1},         // ... whatever the list order
        {{"cd", "bcd"}, "abcde", "a", 1},
        {{"STOP"}, "no stop here, ST, STO, STOP?", "no stop here, ST, STO, ", 0},
        {{"STOP"}, "partial at the end: STO", "partial at the end: STO", -1},
        {{"", "end"}, "the end.", "the ", 1},     // empty stops are ignored
        {{}, "no stops at all", "no stops at all", -1},
        {{"Ω≈"}, "αβγΩ≈δ", "αβγ", 0},
        {{"🙂!"}, "smile 🙂 then 🙂!", "smile 🙂 then ", 0},
    };
    for (const auto& r : rows) {
      CAPTURE(r.text);
      for (const auto& pieces : {std::vector<std::string>{r.text}, bytes_of(r.text), chars_of(r.text)}) {
        const outcome o = run(r.stops, pieces);
        CHECK(o.text == r.expect);
        CHECK(o.stopped == (r.stop_index >= 0));
        CHECK(o.stop_index == r.stop_index);
      }
    }
  }

  TEST_CASE("stop strings: only a possible stop prefix is held back, never more") {
    stop_matcher m({"<|end|>"});
    CHECK(m.push("Hello").text == "Hello");
    CHECK(m.push(" <").text == " ");
    CHECK(m.held_back() == 1);
    CHECK(m.push("|en").text == "");
    CHECK(m.held_back() == 4);
    const auto s = m.push("ds");  // "<|ends": not the stop after all
    CHECK(s.text == "<|ends");
    CHECK_FALSE(s.stopped);
    CHECK(m.held_back() == 0);
    const auto t = m.push("<|end|> more");
    CHECK(t.stopped);
    CHECK(t.text == "");
    CHECK(m.push("after").text.empty());
    CHECK(m.finish().empty());
  }

  TEST_CASE("stop strings: multi-byte stops, whole characters in -> whole characters out") {
    const std::string text = "日本語の終了テキスト。終わり。続き";
    for (const auto& pieces : {bytes_of(text), chars_of(text)}) {
      const outcome o = run({"終わり"}, pieces);
      CHECK(o.stopped);
      CHECK(o.text == "日本語の終了テキスト。");
    }
    // with character pieces every emitted step is whole characters
    stop_matcher m({"終わり"});
    for (const auto& b : chars_of(text)) {
      const auto s = m.push(b);
      for (std::size_t i = 0; i < s.text.size();) {  // walk whole characters
        const auto c = static_cast<unsigned char>(s.text[i]);
        REQUIRE(((c & 0xC0) != 0x80));
        i += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        REQUIRE(i <= s.text.size());
      }
    }
  }

  TEST_CASE("stop strings: validation") {
    CHECK_FALSE(validate_stop_strings({"a", "b"}).has_value());
    const auto many = validate_stop_strings(std::vector<std::string>(17, "x"));
    REQUIRE(many.has_value());
    CHECK(many->find("stop") != std::string::npos);
    const auto long_one = validate_stop_strings({"ok", std::string(2000, 'x')});
    REQUIRE(long_one.has_value());
    CHECK(long_one->find("stop[1]") != std::string::npos);
  }
}
