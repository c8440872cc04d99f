// A GGUF file from untrusted bytes (the gateway loads a node's tokenizer GGUF over HTTP, the
// worker a model file): parse from memory, walk every metadata value and tensor, then build the
// tokenizer and chat template from it, as the gateway's tokenizer cache does. A malformed file
// must be a gguf_error / runtime_error naming what was wrong, never a read out of bounds.
#include <cstring>
#include <stdexcept>
#include <vector>

#include "backends/engine/chat_template.hpp"
#include "backends/engine/gguf.hpp"
#include "backends/engine/mapped_file.hpp"
#include "backends/engine/tokenizer.hpp"
#include "tests/fuzz/fuzz_target.hpp"

namespace laneway::fuzz {

int fuzz_gguf(const std::uint8_t* data, std::size_t size) {
  std::vector<std::byte> bytes(size);
  if (size) std::memcpy(bytes.data(), data, size);
  try {
    auto file = engine::gguf_file::parse(engine::mapped_file::from_bytes(std::move(bytes), "fuzz.gguf"));
    const auto all = file.bytes();
    for (const auto& t : file.tensors()) {
      // Each tensor's data lies inside the file (the parser's promise to the engine).
      auto at = reinterpret_cast<std::uintptr_t>(t.data), begin = reinterpret_cast<std::uintptr_t>(all.data());
      LANEWAY_FUZZ_CHECK(at >= begin && at - begin <= all.size() && t.n_bytes <= all.size() - (at - begin));
    }
    auto tmpl = engine::chat_template::for_model(file);
    auto tok = engine::tokenizer::from_gguf(file);
    std::vector<engine::chat_message> messages{{"user", "hi"}};
    auto ids = tok.tokenize(tmpl.apply(messages, true), true, true);
    (void)tok.detokenize(ids);
  } catch (const std::exception&) {
    // Expected for malformed files: the message names the key or offset.
  }
  return 0;
}

}  // namespace laneway::fuzz
