// The prompt's block hashes, computed in the gateway exactly as the worker computes them: the
// worker's tokenizer (built with engine::tokenizer::from_gguf from the vocab-only GGUF its
// GET /v1/tokenizer serves), its chat template (named by /v1/tokenizer?format=json), and
// engine::block_hashes with the worker's hash_seed and block_size (/load). A tokenizer is kept
// once per seed (the seed is the tokenizer's fingerprint, checked on load), shared by every node
// and thread (tokenize is const and thread-safe). Nodes with no known tokenizer get byte blocks.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/http/error.hpp"
#include "gateway/request_body.hpp"

namespace laneway::gateway {

class prompt_tokenizer;  // engine tokenizer + chat template (prompt_hasher.cpp)

struct prompt_tokens {
  std::vector<std::int32_t> ids;  // the prompt as the worker will see it (BOS included)
};

class tokenizer_cache {
 public:
  tokenizer_cache();
  ~tokenizer_cache();

  // Builds a tokenizer from a worker's vocab-only GGUF and its template name ("chatml",
  // "llama3", "plain"); fails when the bytes do not parse or the tokenizer's fingerprint is not
  // `seed` (then the gateway's hashes would never match the worker's).
  http::result<bool> load(std::uint64_t seed, std::string gguf_bytes, std::string_view template_name);
  bool has(std::uint64_t seed) const;
  // Marks a fetch in progress (true for the first caller), so nodes sharing a tokenizer fetch it once.
  bool begin_fetch(std::uint64_t seed);
  void end_fetch(std::uint64_t seed);

  // The prompt's token ids with the tokenizer of `seed`; false when that tokenizer is unknown
  // or the request has no prompt.
  bool tokenize(std::uint64_t seed, const inference_fields& request, prompt_tokens& out) const;
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::shared_ptr<const prompt_tokenizer>> tokenizers_;
  std::unordered_map<std::uint64_t, bool> fetching_;
};

// Block hashes of the part of the prompt the worker can serve from its cache: its full blocks,
// never covering the last token (the worker computes that one's logits, docs/kv-cache.md).
std::vector<std::uint64_t> cacheable_block_hashes(const prompt_tokens& prompt, std::uint64_t seed,
                                                  std::size_t block_size);

}  // namespace laneway::gateway
