// The KV sheet (backends/worker/kv_sheet.hpp): every row is exactly kv_math's plan for its inputs,
// the verdict thresholds on both sides, the OS reserve default, and the four formats (markdown
// table shape, self-contained HTML, escaping of strings from the GGUF file, JSON).
#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "gateway/http/html_escape.hpp"
#include "backends/engine/model.hpp"
#include "backends/worker/kv_sheet.hpp"

using namespace laneway;
using namespace laneway::worker;

namespace {

const std::string bundled = std::string(LANEWAY_SOURCE_DIR) + "/backends/worker/models/stories260K.gguf";
const std::string shared_q8 = std::string(LANEWAY_SHARED_DATA) + "/models/tinystories-656k-q8_0.gguf";

kv_sheet_input grid(uint64_t memory) {
  kv_sheet_input in;
  in.ctxs = {512, 2048};
  in.seqs = {1, 8};
  in.kv_types = {cpu::dtype::f16, cpu::dtype::f32};
  in.memory = memory;
  in.memory_source = "--memory";
  in.reserve = 1ull << 20;
  in.reserve_source = "--reserve";
  in.runtime = 4ull << 20;
  in.version = "test";
  return in;
}

std::size_t count(const std::string& s, std::string_view what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_SUITE("worker") {
  TEST_CASE("kv sheet rows are kv_math's plans, in order") {
    for (const auto& path : {bundled, shared_q8}) {
      CAPTURE(path);
      const engine::model m = engine::model::open(path);
      const kv_sheet_input in = grid(64ull << 20);
      const kv_sheet_model sm = plan_sheet_model(m, path, in);
      REQUIRE(sm.rows.size() == 8);
      CHECK(sm.file_bytes == m.file().bytes().size());
      CHECK(sm.facts.weight_bytes == m.weight_bytes());
      std::size_t i = 0;
      for (auto type : in.kv_types)
        for (auto ctx : in.ctxs)
          for (auto seqs : in.seqs) {
            engine::kv_plan_input pi;
            pi.ctx = ctx, pi.seqs = seqs, pi.kv_type = type, pi.memory = in.memory, pi.reserve = in.reserve;
            pi.runtime = in.runtime;
            const engine::kv_plan want = engine::plan_kv(m, pi);
            const engine::kv_plan& got = sm.rows[i++].plan;
            CHECK(got.in.ctx == ctx);
            CHECK(got.in.seqs == seqs);
            CHECK(got.kv_bytes == want.kv_bytes);
            CHECK(got.kv_bytes == static_cast<uint64_t>(seqs) * ((ctx + 15) / 16) * 16 * engine::kv_bytes_per_token(m, type));
            CHECK(got.needed == m.weight_bytes() + got.kv_bytes + got.scratch_bytes + in.runtime);
            CHECK(got.margin == static_cast<int64_t>(in.memory - in.reserve) - static_cast<int64_t>(got.needed));
            CHECK(got.max_seqs_that_fit == want.max_seqs_that_fit);
          }
    }
  }

  TEST_CASE("kv sheet verdicts: fits, tight, no, unknown") {
    const engine::model m = engine::model::open(bundled);
    kv_sheet_input in = grid(0);
    in.ctxs = {1024};
    in.seqs = {4};
    in.kv_types = {cpu::dtype::f16};
    CHECK(plan_sheet_model(m, bundled, in).rows[0].verdict == kv_verdict::unknown);

    const uint64_t needed = plan_sheet_model(m, bundled, in).rows[0].plan.needed;
    // usable = needed / 0.9 exactly at the line: a margin of 10 % of usable is "fits".
    in.memory = in.reserve + needed * 10 / 9 + 1;
    CHECK(plan_sheet_model(m, bundled, in).rows[0].verdict == kv_verdict::fits);
    in.memory = in.reserve + needed + 1;
    CHECK(plan_sheet_model(m, bundled, in).rows[0].verdict == kv_verdict::tight);
    in.memory = in.reserve + needed;
    auto exact = plan_sheet_model(m, bundled, in).rows[0];
    CHECK(exact.verdict == kv_verdict::tight);
    CHECK(exact.plan.margin == 0);
    in.memory = in.reserve + needed - 1;
    auto short_by_one = plan_sheet_model(m, bundled, in).rows[0];
    CHECK(short_by_one.verdict == kv_verdict::no);
    CHECK(short_by_one.plan.margin == -1);

    kv_sheet s;
    s.in = in;
    s.models.push_back(plan_sheet_model(m, bundled, in));
    CHECK_FALSE(s.all_fit());
  }

  TEST_CASE("kv sheet OS reserve default") {
    std::string rule;
    const uint64_t r = default_os_reserve(16ull << 30, &rule);
#if defined(__APPLE__)
    CHECK(r == 6ull << 30);
    CHECK(default_os_reserve(64ull << 30) == 16ull << 30);
#else
    CHECK(r == 4ull << 30);
#endif
    CHECK(!rule.empty());
  }

  TEST_CASE("kv sheet formats") {
    const engine::model m = engine::model::open(bundled);
    kv_sheet s;
    s.in = grid(64ull << 20);
    s.models.push_back(plan_sheet_model(m, bundled, s.in));
    s.models.push_back(plan_sheet_model(engine::model::open(shared_q8), shared_q8, s.in));
    // general.name is the file's to choose: it must not break out of a table cell or an element.
    s.models[0].facts.model_name = "<script>alert(1)</script> | *x*";

    const std::string md = format_kv_sheet_markdown(s);
    CHECK(md.find("<script>") == std::string::npos);
    CHECK(md.find("\\<script\\>") != std::string::npos);
    // Every table line has the header's number of unescaped pipes (10 columns: 11 pipes).
    std::size_t table_lines = 0;
    for (std::size_t a = 0, b; a < md.size(); a = b + 1) {
      b = md.find('\n', a);
      if (b == std::string::npos) b = md.size();
      const std::string line = md.substr(a, b - a);
      if (line.empty() || line[0] != '|') continue;
      ++table_lines;
      CHECK(count(line, "|") - count(line, "\\|") == 11);
    }
    CHECK(table_lines == 2 * (2 + 8));  // per model: header, separator, 8 rows
    CHECK(md.find("| --- | ---: |") != std::string::npos);

    const std::string html = format_kv_sheet_html(s);
    CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("&lt;script&gt;") != std::string::npos);
    for (const char* external : {"http:", "https:", "src=", "<link", "@import", "url("}) CHECK(html.find(external) == std::string::npos);
    CHECK(count(html, "<tr class=\"") == 16);
    CHECK(count(html, "<table>") == count(html, "</table>"));

    const std::string text = format_kv_sheet_text(s);
    CHECK(text.find("weights + KV + overhead") != std::string::npos);

    auto j = nlohmann::json::parse(format_kv_sheet_json(s));
    REQUIRE(j["models"].size() == 2);
    CHECK(j["models"][0]["rows"].size() == 8);
    CHECK(j["models"][1]["arch"] == "llama");
    CHECK(j["models"][1]["n_layer"] == 2);
    CHECK(j["models"][0]["rows"][0]["kv_bytes_per_token"] == 640);
    CHECK(j["models"][0]["rows"][0]["verdict"] == std::string(to_string(s.models[0].rows[0].verdict)));
    CHECK(j["machine"]["runtime_bytes"] == 4ull << 20);
  }

  TEST_CASE("kv sheet escaping") {
    CHECK(http::html_escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&#39;");
    CHECK(escape_markdown("a|b\nc*") == "a\\|b c\\*");
  }
}
