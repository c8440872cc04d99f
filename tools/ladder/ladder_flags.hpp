// The flags `laneway ladder` and `laneway soak` share (target, TLS, mix, memory, stamps, gates,
// economics, outputs), how they become a run, and how a finished run is written out.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tools/ladder/economics.hpp"
#include "tools/ladder/ladder_report.hpp"

namespace CLI {
class App;
}

namespace laneway::ladder {

struct common_flags {
  std::string url, levels = "1,2,4", duration = "10s", timeout = "60s", out_dir, mix_file;
  std::string ca_file, pids, model_file, config_file;
  std::string gate_ttft = "1.2s", gate_gap = "120ms", gate_free_memory = "3GB";
  bool json = false, insecure = false, print_mix = false;
  int ab_pairs = 20;
  ladder_target target;
  gate_thresholds gates;
  cost_inputs costs;
  prompt_mix mix;  // the loaded --mix, or a copy of the built-in one
};

void add_common_flags(CLI::App& app, common_flags& f);

// After parsing: checks and converts the flags into `opts` and the report stamp. Returns -1 to
// go on, or the exit status to stop with (0 after --print-mix, 2 for a bad flag, with a message).
int prepare_run(const char* command, common_flags& f, run_options& opts, run_report& report);

// Evaluates gates and economics, prints the table (or JSON), writes --out. Returns the exit
// status: 0 every gate passed or was skipped, 1 a gate failed, 3 --out could not be written.
int finish_run(const common_flags& f, run_report& report);

// "1,2,4" -> {1, 2, 4}; nullopt and `why` naming `flag`.
std::optional<std::vector<int>> parse_int_list(const std::string& text, const char* flag, int min, int max,
                                               std::string* why);

}  // namespace laneway::ladder
