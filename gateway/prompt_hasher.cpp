// Worker-identical tokenization and block hashing (see prompt_hasher.hpp). Links the engine's
// tokenizer, GGUF reader, chat templates and block_hash: the same source code the worker runs.
#include "gateway/prompt_hasher.hpp"

#include <cstring>
#include <exception>

#include "backends/engine/block_hash.hpp"
#include "backends/engine/chat_template.hpp"
#include "backends/engine/gguf.hpp"
#include "backends/engine/mapped_file.hpp"
#include "backends/engine/tokenizer.hpp"

namespace laneway::gateway {

class prompt_tokenizer {
 public:
  prompt_tokenizer(engine::tokenizer tok, engine::chat_template tmpl) : tok_(std::move(tok)), tmpl_(tmpl) {}

  // As the worker's prepare_prompt: chat → template with the generation prompt, then tokens
  // with special tokens added and parsed; a text prompt → tokens; token ids as given.
  bool tokens(const inference_fields& r, prompt_tokens& out) const {
    out.ids.clear();
    if (!r.messages.empty()) {
      std::vector<engine::chat_message> messages;
      messages.reserve(r.messages.size());
      for (const auto& m : r.messages) messages.push_back({m.role, m.content});
      tok_.tokenize(tmpl_.apply(messages, true), true, true, out.ids);
    } else if (r.prompt_text) {
      tok_.tokenize(*r.prompt_text, true, true, out.ids);
    } else {
      out.ids = r.prompt_tokens;
    }
    return !out.ids.empty();
  }

  std::uint64_t fingerprint() const { return tok_.fingerprint(); }

 private:
  engine::tokenizer tok_;
  engine::chat_template tmpl_;
};

tokenizer_cache::tokenizer_cache() = default;
tokenizer_cache::~tokenizer_cache() = default;

http::result<bool> tokenizer_cache::load(std::uint64_t seed, std::string gguf_bytes, std::string_view template_name) {
  auto fail = [](std::string why) { return http::make_error(http::error_kind::upstream_bad_response, std::move(why)); };
  std::shared_ptr<const prompt_tokenizer> built;
  try {
    std::vector<std::byte> bytes(gguf_bytes.size());
    std::memcpy(bytes.data(), gguf_bytes.data(), gguf_bytes.size());
    auto file = engine::gguf_file::parse(engine::mapped_file::from_bytes(std::move(bytes), "GET /v1/tokenizer"));
    auto tmpl = engine::chat_template::find(template_name);
    if (!tmpl) tmpl = engine::chat_template::for_model(file);
    built = std::make_shared<prompt_tokenizer>(engine::tokenizer::from_gguf(file), *tmpl);
  } catch (const std::exception& e) {
    return fail(std::string("the tokenizer GGUF does not load: ") + e.what());
  }
  if (built->fingerprint() != seed)
    return fail("the tokenizer's fingerprint differs from the node's hash_seed; prefixes would never match");
  std::lock_guard lock(mutex_);
  tokenizers_[seed] = std::move(built);
  return true;
}

bool tokenizer_cache::has(std::uint64_t seed) const {
  std::lock_guard lock(mutex_);
  return tokenizers_.count(seed) > 0;
}

bool tokenizer_cache::begin_fetch(std::uint64_t seed) {
  std::lock_guard lock(mutex_);
  if (tokenizers_.count(seed)) return false;
  return fetching_.emplace(seed, true).second;
}

void tokenizer_cache::end_fetch(std::uint64_t seed) {
  std::lock_guard lock(mutex_);
  fetching_.erase(seed);
}

bool tokenizer_cache::tokenize(std::uint64_t seed, const inference_fields& request, prompt_tokens& out) const {
  std::shared_ptr<const prompt_tokenizer> tok;
  {
    std::lock_guard lock(mutex_);
    auto it = tokenizers_.find(seed);
    if (it == tokenizers_.end()) return false;
    tok = it->second;
  }
  try {
    return tok->tokens(request, out);
  } catch (const std::exception&) {
    return false;  // a text the tokenizer refuses (over 4 GiB): routed without a prefix
  }
}

std::size_t tokenizer_cache::size() const {
  std::lock_guard lock(mutex_);
  return tokenizers_.size();
}

std::vector<std::uint64_t> cacheable_block_hashes(const prompt_tokens& prompt, std::uint64_t seed,
                                                  std::size_t block_size) {
  if (prompt.ids.size() < 2 || block_size == 0) return {};
  std::span<const std::int32_t> all(prompt.ids);
  return engine::block_hashes(all.first(prompt.ids.size() - 1), seed, block_size);
}

}  // namespace laneway::gateway
