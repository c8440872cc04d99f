// Tokenizer export and model fingerprint (see tokenizer_export.hpp).
#include "backends/worker/tokenizer_export.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>
#include <xxhash.h>

#include "backends/engine/gguf.hpp"
#include "backends/engine/gguf_writer.hpp"

namespace laneway::worker {

std::string make_tokenizer_gguf(const engine::gguf_file& model) {
  engine::gguf_writer w;
  for (const auto& [key, value] : model.metadata()) {
    if (key == "general.architecture" || key == "general.name" || key.starts_with("tokenizer.")) w.copy(key, value);
  }
  char path[] = "/tmp/laneway-tokenizer-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) throw std::runtime_error("cannot create a temporary file for the tokenizer export");
  ::close(fd);
  std::string bytes;
  try {
    w.open(path);
    w.close();
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    bytes = s.str();
  } catch (...) {
    ::unlink(path);
    throw;
  }
  ::unlink(path);
  return bytes;
}

uint64_t model_fingerprint(const engine::gguf_file& model) {
  const auto bytes = model.bytes();
  const std::size_t head = static_cast<std::size_t>(std::min<uint64_t>(model.data_offset(), bytes.size()));
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset_withSeed(st, 0x6c616e65776179ull);  // "laneway"
  XXH3_64bits_update(st, bytes.data(), head);
  const uint64_t size = bytes.size();
  XXH3_64bits_update(st, &size, sizeof size);
  const uint64_t h = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  return h;
}

}  // namespace laneway::worker
