// The built-in chat formats (exactly as the peer, llama.cpp, renders its built-in templates):
//   chatml:  "<|im_start|>{role}\n{content}<|im_end|>\n" per message;
//            generation prompt "<|im_start|>assistant\n".
//   llama3:  "<|start_header_id|>{role}<|end_header_id|>\n\n{trimmed content}<|eot_id|>" per
//            message; generation prompt "<|start_header_id|>assistant<|end_header_id|>\n\n".
//            (The official template trims each content and starts with <|begin_of_text|>; that
//            BOS comes from the tokenizer's add_bos_token instead of the text.)
//   plain:   "{role}: {content}\n" per message; generation prompt "assistant:". For models
//            trained on no chat format at all, when the operator picks it by name.
#include "backends/engine/chat_template.hpp"

#include <stdexcept>

#include "backends/engine/gguf.hpp"

namespace laneway::engine {

namespace {

struct named {
  std::string_view name;
  chat_family family;
};
constexpr named names[] = {{"chatml", chat_family::chatml}, {"llama3", chat_family::llama3}, {"plain", chat_family::plain}};

std::string_view trim(std::string_view s) {
  const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<chat_template> chat_template::find(std::string_view name) {
  for (const auto& n : names)
    if (n.name == name) return chat_template(n.family);
  return std::nullopt;
}

std::vector<std::string_view> chat_template::known_names() {
  std::vector<std::string_view> out;
  for (const auto& n : names) out.push_back(n.name);
  return out;
}

chat_template chat_template::by_name(std::string_view name) {
  if (auto t = find(name)) return *t;
  std::string known;
  for (const auto& n : names) known += (known.empty() ? "" : ", ") + std::string(n.name);
  throw std::invalid_argument("unknown chat template '" + std::string(name) + "' (known: " + known + ")");
}

chat_template chat_template::detect(std::optional<std::string_view> jinja) {
  if (jinja) {
    if (jinja->find("<|im_start|>") != std::string_view::npos) return chat_template(chat_family::chatml);
    if (jinja->find("<|start_header_id|>") != std::string_view::npos) return chat_template(chat_family::llama3);
  }
  return chat_template(chat_family::chatml, /*recognised=*/false);
}

chat_template chat_template::for_model(const gguf_file& file, std::string_view override_name) {
  if (!override_name.empty()) return by_name(override_name);
  return detect(file.find_string("tokenizer.chat_template"));
}

std::string_view chat_template::name() const {
  for (const auto& n : names)
    if (n.family == family_) return n.name;
  return "chatml";
}

std::string chat_template::apply(std::span<const chat_message> messages, bool add_generation_prompt) const {
  std::string out;
  std::size_t total = 64;
  for (const auto& m : messages) total += m.role.size() + m.content.size() + 48;
  out.reserve(total);
  switch (family_) {
    case chat_family::chatml:
      for (const auto& m : messages) out.append("<|im_start|>").append(m.role).append("\n").append(m.content).append("<|im_end|>\n");
      if (add_generation_prompt) out.append("<|im_start|>assistant\n");
      break;
    case chat_family::llama3:
      for (const auto& m : messages) {
        out.append("<|start_header_id|>").append(m.role).append("<|end_header_id|>\n\n");
        out.append(trim(m.content)).append("<|eot_id|>");
      }
      if (add_generation_prompt) out.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
      break;
    case chat_family::plain:
      for (const auto& m : messages) out.append(m.role).append(": ").append(m.content).append("\n");
      if (add_generation_prompt) out.append("assistant:");
      break;
  }
  return out;
}

}  // namespace laneway::engine
