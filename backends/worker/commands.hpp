// The worker's `laneway` subcommands, expanded by tools/cli/main.cpp into its table.
#pragma once

namespace laneway::worker {

// laneway worker [-c FILE] [-m MODEL] [--host H] [--port P] [--threads N] [--kv-memory 2GiB |
// --kv-blocks N] [--block-size 16] [--max-seqs N] [--max-model-len N] [--chat-template NAME]
// [--check]: serves a model over the OpenAI API (worker.cpp). Exit 2 on a bad config, 1 when the
// model cannot be loaded or the port bound.
int worker_command(int argc, char** argv);

// laneway kv -m FILE --ctx N --seqs N [--memory 16GiB --reserve 4GiB] [--json]: KV math.
int kv_command(int argc, char** argv);

}  // namespace laneway::worker

#define LANEWAY_WORKER_COMMANDS \
  {"worker", "serve a GGUF model over the OpenAI API on this node (-m FILE; default: bundled model)", laneway::worker::worker_command}, \
  {"kv", "KV-cache math: bytes per token/sequence and whether it fits (-m FILE --ctx N --seqs N)", laneway::worker::kv_command},
