// `laneway kv -m FILE --ctx N --seqs N [--memory 16GiB --reserve 4GiB] [--kv-type f16|f32]
// [--block-size 16] [--json]`: the KV math of kv_math.hpp for one model and workload. Without
// --memory the machine's own memory is used; the exit code is 0 when it fits (or no memory is
// known), 3 when it does not, 1/2 for a bad file or bad flags.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "backends/engine/cli_args.hpp"
#include "backends/worker/commands.hpp"
#include "backends/engine/kv_math.hpp"
#include "backends/engine/model.hpp"
#include "gateway/http/config_reader.hpp"

namespace laneway::worker {

using namespace laneway::engine;

int kv_command(int argc, char** argv) {
  CLI::App app{"KV math: KV bytes per token, per sequence and in all, and whether it fits beside the weights.",
               "laneway kv"};
  std::string path, memory, reserve = "4GiB", kv_type = "f16";
  kv_plan_input in;
  in.ctx = 4096;
  bool json = false;
  app.add_option("-m,--model", path, "GGUF model file")->required();
  app.add_option("--ctx", in.ctx, "tokens per sequence (prompt + completion)")->check(CLI::Range(1, 1 << 24));
  app.add_option("--seqs", in.seqs, "sequences held at once")->check(CLI::Range(1, 1 << 20));
  app.add_option("--block-size", in.block_size, "KV block size in tokens")->check(CLI::Range(1, 1024));
  app.add_option("--memory", memory, "machine memory, e.g. 16GiB (default: this machine's)");
  app.add_option("--reserve", reserve, "memory left to the OS and other programs (default 4GiB)");
  app.add_option("--kv-type", kv_type, "f16 | f32 (default f16)")->check(CLI::IsMember({"f16", "f32"}));
  app.add_flag("--json", json, "one JSON object instead of the table");
  if (auto code = parse_command_line(app, argc, argv, 2)) return *code;

  std::string why;
  if (!memory.empty()) {
    auto m = http::parse_byte_size(memory, &why);
    if (!m) return std::fprintf(stderr, "laneway kv: --memory: %s\n", why.c_str()), 2;
    in.memory = *m;
  } else {
    in.memory = machine_memory_bytes();
  }
  auto r = http::parse_byte_size(reserve, &why);
  if (!r) return std::fprintf(stderr, "laneway kv: --reserve: %s\n", why.c_str()), 2;
  in.reserve = *r;
  in.kv_type = kv_type == "f32" ? cpu::dtype::f32 : cpu::dtype::f16;
  try {
    const model m = model::open(path);
    const kv_plan p = plan_kv(m, in);
    std::fputs((json ? format_kv_plan_json(p) + "\n" : format_kv_plan_text(p)).c_str(), stdout);
    return p.has_verdict && !p.fits ? 3 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "laneway kv: %s\n", e.what());
    return 1;
  }
}

}  // namespace laneway::worker
