// The KV sheet's numbers (see kv_sheet.hpp): one kv_math plan per row, the verdicts, the OS
// reserve default, and the JSON form. The text, markdown and HTML forms are in kv_sheet_format.cpp.
#include "backends/worker/kv_sheet.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "backends/engine/model.hpp"

namespace laneway::worker {

std::string_view to_string(kv_verdict v) {
  switch (v) {
    case kv_verdict::fits: return "fits";
    case kv_verdict::tight: return "tight";
    case kv_verdict::no: return "no";
    default: return "unknown";
  }
}

bool kv_sheet::all_fit() const {
  for (const auto& m : models)
    for (const auto& r : m.rows)
      if (r.verdict == kv_verdict::no) return false;
  return true;
}

uint64_t default_os_reserve(uint64_t memory, std::string* rule) {
  constexpr uint64_t gib = 1ull << 30;
#if defined(__APPLE__)
  // macOS keeps roughly a quarter of unified memory away from the GPU working set and needs a few
  // GiB for itself; 3 of the 6 GiB are the "free memory >= 3 GB under load" gate of the ladder.
  if (rule) *rule = "macOS default: max(6GiB, 25% of memory)";
  return std::max<uint64_t>(6 * gib, memory / 4);
#else
  // A headless Linux host needs about 1 GiB; 3 GiB more keep the ladder's free-memory gate green.
  (void)memory;
  if (rule) *rule = "Linux default: 4GiB";
  return 4 * gib;
#endif
}

kv_verdict verdict_of(const engine::kv_plan& p) {
  if (!p.has_verdict) return kv_verdict::unknown;
  if (!p.fits) return kv_verdict::no;
  const uint64_t usable = p.in.memory > p.in.reserve ? p.in.memory - p.in.reserve : 0;
  // Under 10 % of usable memory left: it fits on paper, but page cache, a second model or a
  // browser on the same machine will push it into swap.
  return static_cast<uint64_t>(p.margin) * 10 >= usable ? kv_verdict::fits : kv_verdict::tight;
}

kv_sheet_model plan_sheet_model(const engine::model& m, const std::string& file, const kv_sheet_input& in) {
  kv_sheet_model out;
  out.file = file;
  out.file_bytes = m.file().bytes().size();
  const int64_t trained = m.hparams().n_ctx_train;
  const std::vector<int64_t> ctxs = !in.ctxs.empty() ? in.ctxs : std::vector<int64_t>{trained > 0 ? trained : 4096};
  for (auto type : in.kv_types) {
    for (auto ctx : ctxs) {
      for (auto seqs : in.seqs) {
        engine::kv_plan_input pi;
        pi.ctx = ctx;
        pi.seqs = seqs;
        pi.block_size = in.block_size;
        pi.kv_type = type;
        pi.memory = in.memory;
        pi.reserve = in.reserve;
        pi.runtime = in.runtime;
        kv_sheet_row row;
        row.plan = engine::plan_kv(m, pi);
        row.verdict = verdict_of(row.plan);
        out.rows.push_back(std::move(row));
      }
    }
  }
  if (!out.rows.empty()) out.facts = out.rows.front().plan;
  return out;
}

std::string format_kv_sheet_json(const kv_sheet& s) {
  nlohmann::json models = nlohmann::json::array();
  for (const auto& m : s.models) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& r : m.rows) {
      auto j = nlohmann::json::parse(engine::format_kv_plan_json(r.plan));
      j["verdict"] = std::string(to_string(r.verdict));
      rows.push_back(std::move(j));
    }
    const auto& f = m.facts;
    models.push_back({{"file", m.file},
                      {"file_bytes", m.file_bytes},
                      {"model", f.model_name},
                      {"arch", f.arch},
                      {"n_layer", f.n_layer},
                      {"n_head_kv", f.n_head_kv},
                      {"head_dim", f.head_dim},
                      {"n_ctx_train", f.n_ctx_train},
                      {"weight_bytes", f.weight_bytes},
                      {"rows", std::move(rows)}});
  }
  nlohmann::json machine = {{"memory_bytes", s.in.memory}, {"memory_source", s.in.memory_source},
                            {"reserve_bytes", s.in.reserve}, {"reserve_source", s.in.reserve_source},
                            {"runtime_bytes", s.in.runtime}};
  return nlohmann::json{{"laneway_version", s.in.version}, {"machine", machine}, {"models", models}, {"all_fit", s.all_fit()}}
      .dump();
}

}  // namespace laneway::worker
