// The KV sheet behind `laneway kv`: for each model, every combination of context length,
// sequence count and KV type asked for, planned with kv_math against one machine's memory minus
// the OS reserve — what fits and with what margin — for the people who approve hardware. One
// set of cells, rendered as aligned text, GitHub-flavoured markdown, self-contained HTML or JSON.
//
//   usable  = memory - reserve              (reserve: --reserve, else default_os_reserve())
//   needed  = weights + KV + overhead       (overhead = forward scratch + the process's runtime)
//   margin  = usable - needed;  verdict: fits (margin >= 10% of usable), tight (>= 0), no (< 0)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backends/engine/kv_math.hpp"

namespace laneway::worker {

enum class kv_verdict { fits, tight, no, unknown };
std::string_view to_string(kv_verdict v);

struct kv_sheet_input {
  std::vector<int64_t> ctxs;          // empty: each model's trained context (4096 if it has none)
  std::vector<int64_t> seqs{1};
  std::vector<cpu::dtype> kv_types{cpu::dtype::f16};
  int64_t block_size = 16;
  uint64_t memory = 0;            // 0: unknown (no verdicts)
  std::string memory_source;      // "--memory" or "this machine (Linux /proc/meminfo)"
  uint64_t reserve = 0;
  std::string reserve_source;     // "--reserve" or the default's rule
  uint64_t runtime = 0;           // the worker process beside weights, KV and scratch
  std::string version;            // laneway version, stamped on the sheet
};

struct kv_sheet_row {
  engine::kv_plan plan;
  kv_verdict verdict = kv_verdict::unknown;
};

struct kv_sheet_model {
  std::string file;               // the path given
  uint64_t file_bytes = 0;
  engine::kv_plan facts;          // the first row's plan: the model's own figures
  std::vector<kv_sheet_row> rows; // kv type, then context, then sequences, in the order given
};

struct kv_sheet {
  kv_sheet_input in;
  std::vector<kv_sheet_model> models;
  bool all_fit() const;           // every row's verdict is fits or tight (or unknown)
};

// The reserve left to the OS when --reserve is not given: macOS max(6GiB, 25% of memory), Linux
// and others 4GiB (see docs/kv-cache.md for why); `rule` says which applied.
uint64_t default_os_reserve(uint64_t memory, std::string* rule = nullptr);

// Plans every row for one opened model (the caller opens the file: exceptions name it).
kv_sheet_model plan_sheet_model(const engine::model& m, const std::string& file, const kv_sheet_input& in);
kv_verdict verdict_of(const engine::kv_plan& p);

std::string format_kv_sheet_text(const kv_sheet& s);
std::string format_kv_sheet_markdown(const kv_sheet& s);
std::string format_kv_sheet_html(const kv_sheet& s);
std::string format_kv_sheet_json(const kv_sheet& s);

// Escaping for the untrusted strings of a GGUF file (general.name) in markdown; HTML uses
// http::html_escape (gateway/http/html_escape.hpp).
std::string escape_markdown(std::string_view s);

}  // namespace laneway::worker
