// What GET /v1/tokenizer serves: a vocab-only GGUF holding the model's tokenizer.* metadata (the
// same keys the worker's tokenizer was built from), so a gateway builds the identical tokenizer
// with engine::tokenizer::from_gguf and computes the same prefix-block hashes. Also the model's
// fingerprint, the identity the worker reports in /load.
#pragma once

#include <cstdint>
#include <string>

namespace laneway::engine {
class gguf_file;
}

namespace laneway::worker {

// general.architecture, general.name and every tokenizer.* key of `model`, no tensors.
// Throws std::runtime_error when the temporary file cannot be written.
std::string make_tokenizer_gguf(const engine::gguf_file& model);

// XXH3-64 over the file's header, metadata and tensor infos (bytes before the data section) and
// its size: names the exact model file without reading the weights.
uint64_t model_fingerprint(const engine::gguf_file& model);

}  // namespace laneway::worker
