// KV math (see kv_math.hpp).
#include "backends/engine/kv_math.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

#include "backends/engine/model.hpp"

namespace laneway::engine {

namespace {

std::string human(uint64_t bytes) {
  static constexpr const char* names[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) v /= 1024.0, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", v, names[u]);
  return buf;
}

std::string signed_human(int64_t bytes) {
  return bytes < 0 ? "-" + human(static_cast<uint64_t>(-bytes)) : human(static_cast<uint64_t>(bytes));
}

uint64_t value_bytes_x32(cpu::dtype t) {  // bytes per 32 values
  switch (t) {
    case cpu::dtype::f32: return 128;
    case cpu::dtype::q8_0: return 34;
    default: return 64;  // f16
  }
}

}  // namespace

uint64_t kv_bytes_per_token(const model& m, cpu::dtype kv_type) {
  const auto& hp = m.hparams();
  const uint64_t values = 2ull * static_cast<uint64_t>(hp.n_layer) * static_cast<uint64_t>(hp.kv_dim());
  return values * value_bytes_x32(kv_type) / 32;
}

kv_plan plan_kv(const model& m, const kv_plan_input& in) {
  const auto& hp = m.hparams();
  kv_plan p;
  p.in = in;
  auto name = m.file().find_string("general.name");
  p.model_name = name && !name->empty() ? std::string(*name) : m.file().name();
  p.arch = std::string(to_string(hp.arch));
  p.n_layer = hp.n_layer, p.n_head_kv = hp.n_head_kv, p.head_dim = hp.head_dim, p.n_ctx_train = hp.n_ctx_train;
  p.weight_bytes = m.weight_bytes();
  p.bytes_per_token = kv_bytes_per_token(m, in.kv_type);
  const int64_t bs = std::max<int64_t>(1, in.block_size);
  p.bytes_per_block = p.bytes_per_token * static_cast<uint64_t>(bs);
  p.blocks_per_seq = (std::max<int64_t>(0, in.ctx) + bs - 1) / bs;
  p.bytes_per_seq = static_cast<uint64_t>(p.blocks_per_seq) * p.bytes_per_block;
  p.kv_bytes = p.bytes_per_seq * static_cast<uint64_t>(std::max<int64_t>(0, in.seqs));
  // Activations of a 256-token step in f32 (x, xn, q, k, v, attn, proj, gate, up) plus one logits
  // row per sequence: what cpu_forward's scratch grows to.
  const uint64_t step = 256;
  const uint64_t widths = static_cast<uint64_t>(4 * hp.n_embd + 2 * hp.q_dim() + 2 * hp.kv_dim() + 2 * hp.n_ff);
  p.scratch_bytes = 4 * (step * widths + static_cast<uint64_t>(std::max<int64_t>(1, in.seqs)) * static_cast<uint64_t>(hp.n_vocab));
  p.needed = p.weight_bytes + p.kv_bytes + p.scratch_bytes + in.runtime;
  if (in.memory > 0) {
    p.has_verdict = true;
    const int64_t usable = static_cast<int64_t>(in.memory) - static_cast<int64_t>(in.reserve);
    p.margin = usable - static_cast<int64_t>(p.needed);
    p.fits = p.margin >= 0;
    const int64_t for_kv = usable - static_cast<int64_t>(p.weight_bytes + p.scratch_bytes + in.runtime);
    p.max_seqs_that_fit = p.bytes_per_seq > 0 && for_kv > 0 ? for_kv / static_cast<int64_t>(p.bytes_per_seq) : 0;
  }
  return p;
}

std::string format_kv_plan_text(const kv_plan& p) {
  std::ostringstream o;
  char line[256];
  o << "model        " << p.model_name << " (" << p.arch << ", " << p.n_layer << " layers, " << p.n_head_kv
    << " KV heads x " << p.head_dim << ", trained context " << p.n_ctx_train << ")\n";
  o << "weights      " << human(p.weight_bytes) << "\n";
  std::snprintf(line, sizeof line, "KV per token %s (%s)\n", human(p.bytes_per_token).c_str(),
                std::string(cpu::traits(p.in.kv_type).name).c_str());
  o << line;
  o << "per sequence " << human(p.bytes_per_seq) << " (" << p.in.ctx << " tokens = " << p.blocks_per_seq << " blocks of "
    << p.in.block_size << ")\n";
  o << "KV total     " << human(p.kv_bytes) << " for " << p.in.seqs << " sequence(s)\n";
  o << "scratch      " << human(p.scratch_bytes) << " (forward-pass activations, estimate)\n";
  if (p.in.runtime > 0) o << "runtime      " << human(p.in.runtime) << " (the process itself: code, threads, buffers)\n";
  o << "needed       " << human(p.needed) << "\n";
  if (p.has_verdict) {
    o << "memory       " << human(p.in.memory) << " - reserve " << human(p.in.reserve) << " = "
      << human(p.in.memory > p.in.reserve ? p.in.memory - p.in.reserve : 0) << " usable\n";
    o << "verdict      " << (p.fits ? "FITS" : "DOES NOT FIT") << ", margin " << signed_human(p.margin) << "; at "
      << p.in.ctx << " tokens each, " << p.max_seqs_that_fit << " sequence(s) fit\n";
  }
  return o.str();
}

std::string format_kv_plan_json(const kv_plan& p) {
  nlohmann::json j = {{"model", p.model_name},
                      {"arch", p.arch},
                      {"n_layer", p.n_layer},
                      {"n_head_kv", p.n_head_kv},
                      {"head_dim", p.head_dim},
                      {"n_ctx_train", p.n_ctx_train},
                      {"kv_type", std::string(cpu::traits(p.in.kv_type).name)},
                      {"ctx", p.in.ctx},
                      {"seqs", p.in.seqs},
                      {"block_size", p.in.block_size},
                      {"weight_bytes", p.weight_bytes},
                      {"kv_bytes_per_token", p.bytes_per_token},
                      {"kv_bytes_per_sequence", p.bytes_per_seq},
                      {"kv_bytes", p.kv_bytes},
                      {"scratch_bytes", p.scratch_bytes},
                      {"runtime_bytes", p.in.runtime},
                      {"needed_bytes", p.needed}};
  if (p.has_verdict) {
    j["memory_bytes"] = p.in.memory;
    j["reserve_bytes"] = p.in.reserve;
    j["fits"] = p.fits;
    j["margin_bytes"] = p.margin;
    j["max_sequences"] = p.max_seqs_that_fit;
  }
  return j.dump();
}

uint64_t machine_memory_bytes() {
#if defined(__APPLE__)
  uint64_t mem = 0;
  size_t len = sizeof mem;
  if (sysctlbyname("hw.memsize", &mem, &len, nullptr, 0) == 0) return mem;
  return 0;
#else
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit) {
    if (key == "MemTotal:") return kib * 1024;
  }
  return 0;
#endif
}

}  // namespace laneway::engine
