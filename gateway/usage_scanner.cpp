// The usage tail scan (see usage_scanner.hpp).
#include "gateway/usage_scanner.hpp"

#include <nlohmann/json.hpp>

namespace laneway::gateway {

void usage_scanner::feed(std::string_view piece) {
  if (piece.size() >= keep_) {
    tail_.assign(piece.substr(piece.size() - keep_));
    return;
  }
  tail_.append(piece);
  if (tail_.size() > 2 * keep_) tail_.erase(0, tail_.size() - keep_);
}

namespace {

// The JSON object starting at `open` (a '{'), by brace matching outside strings.
std::optional<std::string_view> object_at(std::string_view text, std::size_t open) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = open; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{') ++depth;
    else if (c == '}' && --depth == 0) return text.substr(open, i - open + 1);
  }
  return std::nullopt;
}

std::int64_t int_at(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : -1;
}

}  // namespace

std::optional<usage_info> usage_scanner::result() const {
  std::string_view text(tail_);
  for (std::size_t at = text.rfind("\"usage\""); at != std::string_view::npos;
       at = at == 0 ? std::string_view::npos : text.rfind("\"usage\"", at - 1)) {
    std::size_t open = text.find_first_not_of(" \t\r\n:", at + 7);
    if (open == std::string_view::npos || text[open] != '{') continue;
    auto obj = object_at(text, open);
    if (!obj) continue;
    auto j = nlohmann::json::parse(*obj, nullptr, false);
    if (!j.is_object()) continue;
    usage_info u;
    u.prompt_tokens = int_at(j, "prompt_tokens");
    u.completion_tokens = int_at(j, "completion_tokens");
    if (auto d = j.find("prompt_tokens_details"); d != j.end() && d->is_object()) u.cached_tokens = int_at(*d, "cached_tokens");
    return u;
  }
  return std::nullopt;
}

}  // namespace laneway::gateway
