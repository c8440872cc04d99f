// The HTML report: escaping of everything from outside (also invalid UTF-8), round SVG ticks,
// plots as inline <svg> with no external reference, and a rendered report that carries the
// stamp, the gates and the economics.
#include <doctest/doctest.h>

#include <string>

#include "tools/ladder/html_report.hpp"
#include "tools/ladder/svg_plot.hpp"

using namespace laneway::ladder;

namespace {

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_SUITE("ladder") {
  TEST_CASE("html_escape: markup characters, controls and invalid UTF-8") {
    CHECK(html_escape("<script>alert('x')</script> & \"q\"") ==
          "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
    CHECK(html_escape("caf\xc3\xa9 \xe2\x9c\x93") == "caf\xc3\xa9 \xe2\x9c\x93");  // valid UTF-8 passes
    CHECK(html_escape("a\xff" "b") == "a&#xFFFD;b");
    CHECK(html_escape("cut \xe2\x9c") == "cut &#xFFFD;&#xFFFD;");  // a sequence cut short
    CHECK(html_escape("\xc0\xaf") == "&#xFFFD;&#xFFFD;");           // overlong '/'
    CHECK(html_escape(std::string("nul\0x", 5)) == "nul&#xFFFD;x");
    CHECK(html_escape("tab\tnl\n") == "tab\tnl\n");
  }

  TEST_CASE("svg: round ticks, escaped labels, no data") {
    auto t = nice_ticks(0, 97);
    REQUIRE(t.size() >= 2);
    CHECK(t.front() == 0);
    CHECK(t.back() >= 97);
    CHECK(t[1] - t[0] == 20);
    CHECK(nice_ticks(1, 1).size() >= 2);
    auto svg = line_plot({"<b>t</b>", "x", "y"}, {{"s&1", {{1, 2}, {2, 4}}}});
    CHECK(svg.rfind("<svg ", 0) == 0);
    CHECK(svg.find("&lt;b&gt;t&lt;/b&gt;") != std::string::npos);
    CHECK(svg.find("s&amp;1") != std::string::npos);
    CHECK(svg.find("<polyline") != std::string::npos);
    CHECK(count(svg, "<circle") == 2);
    CHECK(svg.find("http") == std::string::npos);
    auto empty = line_plot({"e", "x", "y"}, {{"s", {}}});
    CHECK(empty.find("no data") != std::string::npos);
  }

  TEST_CASE("report.html: stamp, gates, economics, every plot an svg, hostile text escaped") {
    run_report r;
    r.info.url = "http://127.0.0.1:1/<x>";
    r.info.model = "m<script>";
    r.info.version = "9.9.9";
    r.info.date_utc = "2026-12-01T00:00:00Z";
    r.info.model_digest = "abc123";
    r.info.config_digest = "def456";
    r.info.mix_digest = "0123";
    r.info.pids = {42};
    r.mix = &builtin_mix();
    rung_summary x;
    x.concurrency = 1;
    x.requests = 3;
    x.tokens_per_s = 12.5;
    x.ttft = {3, 0.1, 0.2, 0.3};
    x.errors_by_class["5xx"] = 1;
    x.error_examples["5xx"] = "{\"error\":\"<boom>\"}";
    r.result.rungs = {x};
    request_sample s;
    s.concurrency = 1;
    s.ttft_s = 0.1;
    r.result.samples = {s, s};
    memory_sample m;
    m.t_s = 0;
    m.available_bytes = 4'000'000'000LL;
    m.swap_used_bytes = 0;
    m.rss_bytes = {50'000'000};
    r.result.memory = {m};
    r.result.knee_reason = "c=1: error rate 33.3% > knee 10.0%";
    r.gates = evaluate_gates(r.result.rungs, {}, false, 4'000'000'000LL);
    cost_inputs in;
    in.rent_per_hour = 1.5;
    r.costs = economics_for(in, r.result.rungs, {}, false);
    auto html = render_html(r);
    CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(html.find("m&lt;script&gt;") != std::string::npos);
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("&lt;boom&gt;") != std::string::npos);
    CHECK(html.find("9.9.9") != std::string::npos);
    CHECK(html.find("abc123") != std::string::npos);
    CHECK(html.find("def456") != std::string::npos);
    CHECK(html.find("ladder-mix-v2") != std::string::npos);
    CHECK(html.find("free_memory_bytes") != std::string::npos);
    CHECK(html.find("Economics") != std::string::npos);
    CHECK(html.find("Knee: c=1") != std::string::npos);
    CHECK(count(html, "<svg ") == 4);  // latency, TTFT CDF, machine memory, RSS
    CHECK(count(html, "<svg ") == count(html, "</svg>"));
    CHECK(html.find("http://") == html.find("http://127.0.0.1:1/&lt;x&gt;"));  // only the escaped server URL
    CHECK(html.find("https://") == std::string::npos);
    CHECK(html.find("src=") == std::string::npos);
  }
}
