// The harness convention: each tests/fuzz/<name>.cpp defines fuzz_<name>(data, size), which must
// return 0 for any input without crashing, hanging or tripping a sanitizer. The same function
// is the libFuzzer entry (fuzz_entry.cpp.in, clang) and a replay target (replay_main.cpp, any
// compiler) that ctest runs over the seed corpus and the kept regression inputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace laneway::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// An invariant a harness checks: a broken one aborts (libFuzzer keeps the input as a crash).
#define LANEWAY_FUZZ_CHECK(cond)                                                          \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

int fuzz_http_request(const std::uint8_t* data, std::size_t size);
int fuzz_json_request(const std::uint8_t* data, std::size_t size);
int fuzz_gguf(const std::uint8_t* data, std::size_t size);
int fuzz_tokenizer(const std::uint8_t* data, std::size_t size);
int fuzz_config(const std::uint8_t* data, std::size_t size);
int fuzz_kv_events(const std::uint8_t* data, std::size_t size);

}  // namespace laneway::fuzz
