// The KV sheet (kv_sheet.hpp) as text, GitHub-flavoured markdown and self-contained HTML. All three
// render the same cells (sheet_cells below), so the formats cannot disagree on a number; strings
// from the GGUF file are escaped for the format they land in.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "backends/engine/model.hpp"
#include "backends/worker/kv_sheet.hpp"
#include "gateway/http/config_reader.hpp"
#include "gateway/http/html_escape.hpp"

namespace laneway::worker {

namespace {

std::string size(uint64_t bytes) { return http::format_byte_size(bytes); }
std::string signed_size(int64_t bytes) {
  return bytes < 0 ? "-" + size(static_cast<uint64_t>(-bytes)) : size(static_cast<uint64_t>(bytes));
}
std::string type_name(cpu::dtype t) { return std::string(cpu::traits(t).name); }

// One model's page: facts (label, value) and a table (header row, then one row per plan).
struct page {
  std::string title;
  std::vector<std::pair<std::string, std::string>> facts;
  std::vector<std::vector<std::string>> table;
  std::vector<kv_verdict> verdicts;  // per table row (after the header)
};

std::vector<std::pair<std::string, std::string>> machine_facts(const kv_sheet& s) {
  const auto& in = s.in;
  if (in.memory == 0) return {{"machine memory", "unknown (pass --memory): no verdicts"}};
  const uint64_t usable = in.memory > in.reserve ? in.memory - in.reserve : 0;
  return {{"machine memory", size(in.memory) + " (" + in.memory_source + ")"},
          {"OS reserve", size(in.reserve) + " (" + in.reserve_source + ")"},
          {"usable", size(usable)},
          {"runtime overhead", size(in.runtime) + " per worker process, plus the forward scratch per row"}};
}

page model_page(const kv_sheet_model& m) {
  const auto& f = m.facts;
  page p;
  p.title = f.model_name;
  p.facts = {{"file", m.file + " (" + size(m.file_bytes) + ")"},
             {"architecture", f.arch},
             {"layers", std::to_string(f.n_layer)},
             {"KV heads x head dim", std::to_string(f.n_head_kv) + " x " + std::to_string(f.head_dim)},
             {"trained context", std::to_string(f.n_ctx_train) + " tokens"},
             {"weights", size(f.weight_bytes)}};
  // A context past the trained one is KV the worker never holds: its max_model_len defaults to
  // the model's context_length.
  const bool past_trained = f.n_ctx_train > 0 && std::any_of(m.rows.begin(), m.rows.end(), [&](const kv_sheet_row& r) {
    return r.plan.in.ctx > f.n_ctx_train;
  });
  if (past_trained)
    p.facts.push_back({"note", "rows with a context above " + std::to_string(f.n_ctx_train) +
                                   " exceed the trained context; the worker serves at most that by default"});
  p.table.push_back({"KV type", "context", "seqs", "KV/token", "KV cache", "overhead", "weights + KV + overhead",
                     "margin", "verdict", "max seqs at this context"});
  for (const auto& r : m.rows) {
    const auto& q = r.plan;
    const bool known = r.verdict != kv_verdict::unknown;
    p.table.push_back({type_name(q.in.kv_type), std::to_string(q.in.ctx), std::to_string(q.in.seqs), size(q.bytes_per_token),
                       size(q.kv_bytes), size(q.scratch_bytes + q.in.runtime), size(q.needed),
                       known ? signed_size(q.margin) : "-", std::string(to_string(r.verdict)),
                       known ? std::to_string(q.max_seqs_that_fit) : "-"});
    p.verdicts.push_back(r.verdict);
  }
  return p;
}

const char* legend =
    "fits: margin >= 10% of usable memory; tight: fits with less; no: does not fit. "
    "Overhead = forward-pass scratch (256-token steps) + the worker's runtime.";

}  // namespace

std::string escape_markdown(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20) out += ' ';  // a newline would end the table row
    else if (std::string_view("\\`*_[]<>|#!~").find(static_cast<char>(c)) != std::string_view::npos) out += '\\', out += static_cast<char>(c);
    else out += static_cast<char>(c);
  }
  return out;
}

std::string format_kv_sheet_text(const kv_sheet& s) {
  std::ostringstream o;
  o << "laneway " << s.in.version << " KV sheet\n";
  for (const auto& [k, v] : machine_facts(s)) o << "  " << k << ": " << v << "\n";
  for (const auto& m : s.models) {
    const page p = model_page(m);
    o << "\n" << p.title << "\n";
    for (const auto& [k, v] : p.facts) o << "  " << k << ": " << v << "\n";
    std::vector<std::size_t> width(p.table.front().size(), 0);
    for (const auto& row : p.table)
      for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    for (const auto& row : p.table) {
      o << " ";
      for (std::size_t i = 0; i < row.size(); ++i) o << " " << row[i] << std::string(width[i] - row[i].size() + 1, ' ');
      o << "\n";
    }
  }
  o << "\n" << legend << "\n";
  return o.str();
}

std::string format_kv_sheet_markdown(const kv_sheet& s) {
  std::ostringstream o;
  o << "# KV sheet (laneway " << escape_markdown(s.in.version) << ")\n\n";
  for (const auto& [k, v] : machine_facts(s)) o << "- **" << k << "**: " << escape_markdown(v) << "\n";
  for (const auto& m : s.models) {
    const page p = model_page(m);
    o << "\n## " << escape_markdown(p.title) << "\n\n";
    for (const auto& [k, v] : p.facts) o << "- **" << k << "**: " << escape_markdown(v) << "\n";
    o << "\n";
    for (std::size_t r = 0; r < p.table.size(); ++r) {
      o << "|";
      for (const auto& cell : p.table[r]) o << " " << escape_markdown(cell) << " |";
      o << "\n";
      if (r == 0) {
        o << "|";
        // Numbers right-aligned, the KV type and the verdict left.
        for (std::size_t i = 0; i < p.table[0].size(); ++i) o << (i == 0 || i == 8 ? " --- |" : " ---: |");
        o << "\n";
      }
    }
  }
  o << "\n" << escape_markdown(legend) << "\n";
  return o.str();
}

std::string format_kv_sheet_html(const kv_sheet& s) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
       "<title>KV sheet (laneway " << http::html_escape(s.in.version) << ")</title>\n"
       "<style>\n"
       "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:70em}\n"
       "table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.25em .6em}\n"
       "td{text-align:right;font-variant-numeric:tabular-nums}td:first-child{text-align:left}\n"
       "th{background:#f3f3f3}dl{display:grid;grid-template-columns:max-content auto;gap:.1em 1em}dt{font-weight:600}\n"
       ".fits{background:#e3f6e3}.tight{background:#fff4d6}.no{background:#fbe0e0}\n"
       "@media print{body{margin:0}}\n"
       "</style></head><body>\n";
  o << "<h1>KV sheet</h1>\n<dl>";
  for (const auto& [k, v] : machine_facts(s)) o << "<dt>" << http::html_escape(k) << "</dt><dd>" << http::html_escape(v) << "</dd>";
  o << "</dl>\n";
  for (const auto& m : s.models) {
    const page p = model_page(m);
    o << "<h2>" << http::html_escape(p.title) << "</h2>\n<dl>";
    for (const auto& [k, v] : p.facts) o << "<dt>" << http::html_escape(k) << "</dt><dd>" << http::html_escape(v) << "</dd>";
    o << "</dl>\n<table>\n<tr>";
    for (const auto& h : p.table.front()) o << "<th>" << http::html_escape(h) << "</th>";
    o << "</tr>\n";
    for (std::size_t r = 1; r < p.table.size(); ++r) {
      o << "<tr class=\"" << to_string(p.verdicts[r - 1]) << "\">";
      for (const auto& cell : p.table[r]) o << "<td>" << http::html_escape(cell) << "</td>";
      o << "</tr>\n";
    }
    o << "</table>\n";
  }
  o << "<p>" << http::html_escape(legend) << "</p>\n<p><small>laneway " << http::html_escape(s.in.version)
    << "</small></p>\n</body></html>\n";
  return o.str();
}

}  // namespace laneway::worker
