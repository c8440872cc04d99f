// `laneway kv -m FILE [-m FILE ...] [--ctx 4096,32768 (default: trained context)] [--seqs 1,4,16] [--kv-type f16,f32]
// [--memory 16GiB] [--reserve SIZE] [--overhead SIZE] [--block-size 16]
// [--format text|md|html|json]`: the KV sheet of kv_sheet.hpp. Without --memory the machine's own
// memory is used; without --reserve the OS default. Exit 0 when every row fits (or no memory is
// known), 3 when some row does not, 1 for a model file that cannot be read, 2 for bad flags.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "backends/engine/cli_args.hpp"
#include "backends/engine/model.hpp"
#include "backends/worker/commands.hpp"
#include "backends/worker/kv_sheet.hpp"
#include "gateway/http/config_reader.hpp"

namespace laneway::worker {

namespace {

// The worker process beside its weights, KV pool and forward scratch: code, the tokenizer's
// tables, HTTP and scheduler threads' stacks, buffers, the GPU loader and driver it probes.
// Measured as the RSS of a worker serving the bundled 260K model with a 1MiB KV pool: about
// 60MiB on Linux x86-64 (Vulkan loader and lavapipe probed); doubled as headroom for larger
// vocabularies and busy HTTP buffers.
constexpr const char* default_overhead = "128MiB";

// A size flag into `out`, its name into `source`; false after printing why it is not a size.
bool size_flag(const char* flag, const std::string& text, uint64_t& out, std::string* source = nullptr) {
  std::string why;
  auto v = http::parse_byte_size(text, &why);
  if (!v) return std::fprintf(stderr, "laneway kv: %s: %s\n", flag, why.c_str()), false;
  out = *v;
  if (source) *source = flag;
  return true;
}

}  // namespace

int kv_command(int argc, char** argv) {
  CLI::App app{"KV sheet: per model, context and sequence count, the KV cache beside the weights against a "
               "machine's memory minus the OS reserve, and whether it fits.",
               "laneway kv"};
  std::vector<std::string> paths, kv_types{"f16"};
  std::string memory, reserve, overhead = default_overhead, format = "text";
  kv_sheet_input in;
  bool json = false;
  app.add_option("-m,--model", paths, "GGUF model file (repeatable: one page per model)")->required();
  app.add_option("--ctx", in.ctxs, "tokens per sequence, prompt + completion (comma list; default: the model's trained context)")
      ->delimiter(',')
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  app.add_option("--seqs", in.seqs, "sequences held at once (comma list, default 1)")
      ->delimiter(',')
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  app.add_option("--kv-type", kv_types, "f16 | f32, the worker's engine.kv_type (comma list, default f16)")
      ->delimiter(',')
      ->check(CLI::IsMember({"f16", "f32"}));
  app.add_option("--block-size", in.block_size, "KV block size in tokens (default 16)")->check(CLI::Range(1, 1024));
  app.add_option("--memory", memory, "machine memory, e.g. 16GiB (default: this machine's)");
  app.add_option("--reserve", reserve, "memory left to the OS and other programs (default: macOS max(6GiB, 25%), Linux 4GiB)");
  app.add_option("--overhead", overhead, "the worker process beside weights, KV and scratch (default 128MiB)");
  app.add_option("--format", format, "text | md | html | json (default text)")->check(CLI::IsMember({"text", "md", "html", "json"}));
  app.add_flag("--json", json, "the same as --format json");
  if (auto code = engine::parse_command_line(app, argc, argv, 2)) return *code;
  if (json) format = "json";

  if (!memory.empty()) {
    if (!size_flag("--memory", memory, in.memory, &in.memory_source)) return 2;
  } else {
    in.memory = engine::machine_memory_bytes();
#if defined(__APPLE__)
    in.memory_source = "this machine, sysctl hw.memsize";
#else
    in.memory_source = "this machine, /proc/meminfo MemTotal";
#endif
  }
  if (!reserve.empty()) {
    if (!size_flag("--reserve", reserve, in.reserve, &in.reserve_source)) return 2;
  } else {
    in.reserve = default_os_reserve(in.memory, &in.reserve_source);
  }
  if (!size_flag("--overhead", overhead, in.runtime)) return 2;
  in.kv_types.clear();
  for (const auto& t : kv_types) in.kv_types.push_back(t == "f32" ? cpu::dtype::f32 : cpu::dtype::f16);
  in.version = LANEWAY_VERSION;

  kv_sheet sheet;
  sheet.in = in;
  for (const auto& path : paths) {
    try {
      const engine::model m = engine::model::open(path);
      sheet.models.push_back(plan_sheet_model(m, path, in));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "laneway kv: %s\n", e.what());
      return 1;
    }
  }
  const std::string out = format == "md"     ? format_kv_sheet_markdown(sheet)
                          : format == "html" ? format_kv_sheet_html(sheet)
                          : format == "json" ? format_kv_sheet_json(sheet) + "\n"
                                             : format_kv_sheet_text(sheet);
  std::fputs(out.c_str(), stdout);
  return sheet.all_fit() ? 0 : 3;
}

}  // namespace laneway::worker
