// Chat templates: turn a list of {role, content} messages into the prompt text a model was
// trained on. Built in: ChatML, Llama 3, and plain "role: content" lines. The family is detected
// from the GGUF's tokenizer.chat_template (substring checks, as the peers do) or picked by name.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace laneway::engine {

class gguf_file;

struct chat_message {
  std::string role;
  std::string content;
};

enum class chat_family { chatml, llama3, plain };

class chat_template {
 public:
  // "chatml", "llama3", "plain"; nullopt for any other name.
  static std::optional<chat_template> find(std::string_view name);
  // As find(), but throws std::invalid_argument listing the known names.
  static chat_template by_name(std::string_view name);
  // From a Jinja template's text: "<|im_start|>" -> chatml, "<|start_header_id|>" -> llama3.
  // No template, or one we do not recognise -> chatml, the peer's (llama.cpp server) default.
  static chat_template detect(std::optional<std::string_view> jinja);
  // detect() on the file's tokenizer.chat_template, unless `override_name` is non-empty.
  static chat_template for_model(const gguf_file& file, std::string_view override_name = {});
  static std::vector<std::string_view> known_names();

  chat_family family() const { return family_; }
  std::string_view name() const;
  // False when detect() fell back because the model's template was absent or unrecognised.
  bool recognised() const { return recognised_; }

  // The prompt text. It never contains BOS: the tokenizer adds it (add_bos_token), so it is
  // never doubled. Tokenize the result with special parsing on.
  std::string apply(std::span<const chat_message> messages, bool add_generation_prompt = true) const;

 private:
  explicit chat_template(chat_family f, bool recognised = true) : family_(f), recognised_(recognised) {}
  chat_family family_;
  bool recognised_;
};

}  // namespace laneway::engine
