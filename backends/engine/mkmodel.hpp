// Seeded random-weight GGUF models (`laneway mkmodel`) for tests and benchmarks: any supported
// architecture, shape and weight type, with a real vocabulary (every tokenizer.* key) copied from
// a GGUF file. The same options and seed give a byte-identical file on every platform.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backends/engine/gguf.hpp"

namespace laneway::engine {

struct mkmodel_options {
  std::string arch;          // llama | qwen2 | qwen3
  std::string vocab_path;    // GGUF file with tokenizer.* keys (a vocab-only file is enough)
  int64_t layers = 0;
  int64_t embd = 0;
  int64_t heads = 0;         // 0: embd / 64 (at least 1)
  int64_t kv_heads = 0;      // 0: heads
  int64_t head_dim = 0;      // 0: embd / heads
  int64_t ff = 0;            // 0: 8/3 embd rounded up to a multiple of 256
  int64_t ctx = 4096;
  tensor_type type = tensor_type::q8_0;  // of the weight matrices; norms and biases are F32
  uint64_t seed = 0;
  bool tied = false;         // no output.weight: the output projection reuses token_embd
  int threads = 2;           // for generating and quantizing rows (the file does not depend on it)
  std::string out;
};

// Parses "F32", "q8_0", ... (case-insensitive); nullopt for anything else.
std::optional<tensor_type> parse_weight_type(const std::string& name);

// Fills the defaults (heads, kv_heads, head_dim, ff) and checks the shape: nullopt or a message
// naming the flag (for example that --embd must be a multiple of 256 for Q4_K).
std::optional<std::string> resolve_mkmodel_options(mkmodel_options& o);

struct mkmodel_result {
  uint64_t n_params = 0;
  uint64_t file_bytes = 0;
  int64_t n_vocab = 0;
};

// Writes the model to o.out (through o.out + ".tmp", renamed at the end). Precondition:
// resolve_mkmodel_options(o) returned nothing. Throws gguf_error when the vocab file cannot be
// read or has no tokenizer.ggml.tokens, gguf_write_error when the output cannot be written.
mkmodel_result make_random_model(const mkmodel_options& o);

}  // namespace laneway::engine
