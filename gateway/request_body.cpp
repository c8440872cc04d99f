// Reading the routing fields of a request body (see request_body.hpp). One non-throwing parse;
// every field read here is type-checked and a wrong type is a 400 naming the field (with its
// path: "messages[2].content"). Fields the gateway does not read are left to the node.
#include "gateway/request_body.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>

namespace laneway::gateway {

using json = nlohmann::json;

namespace {

using field_error = std::optional<http::error>;

http::error bad_field(std::string param, std::string_view what) {
  std::string message = "'" + param + "' " + std::string(what);
  return http::make_error(http::error_kind::bad_request, std::move(message), std::move(param));
}

// A message's content as the worker reads it: a string, null, or parts whose text parts are
// concatenated. Parts of other types (images, audio) are the node's business, but each part
// must be an object and a text part's "text" a string.
field_error content_text(const json& c, const std::string& at, std::string& text) {
  if (c.is_string()) return text = c.get<std::string>(), std::nullopt;
  if (c.is_null()) return std::nullopt;
  if (!c.is_array()) return bad_field(at, "must be a string or an array of content parts");
  for (std::size_t i = 0; i < c.size(); ++i) {
    const json& part = c[i];
    std::string part_at = at + "[" + std::to_string(i) + "]";
    if (!part.is_object()) return bad_field(part_at, "must be an object");
    auto type = part.find("type");
    if (type == part.end() || !type->is_string()) return bad_field(part_at + ".type", "must be a string");
    if (*type != "text") continue;
    auto t = part.find("text");
    if (t == part.end() || !t->is_string()) return bad_field(part_at + ".text", "must be a string");
    text += t->get<std::string>();
  }
  return std::nullopt;
}

field_error read_messages(const json& m, inference_fields& f) {
  if (m.is_null()) return std::nullopt;
  if (!m.is_array()) return bad_field("messages", "must be an array");
  for (std::size_t i = 0; i < m.size(); ++i) {
    const json& msg = m[i];
    std::string at = "messages[" + std::to_string(i) + "]";
    if (!msg.is_object()) return bad_field(at, "must be an object");
    auto role = msg.find("role");
    if (role == msg.end() || !role->is_string()) return bad_field(at + ".role", "must be a string");
    std::string r = role->get<std::string>();
    std::string text;
    if (auto content = msg.find("content"); content != msg.end())
      if (auto e = content_text(*content, at + ".content", text)) return e;
    f.messages.push_back({r == "developer" ? "system" : r, std::move(text)});
  }
  return std::nullopt;
}

bool is_token_id(const json& id) {
  return id.is_number_integer() && !(id.is_number_unsigned() && id.get<std::uint64_t>() > INT32_MAX) &&
         id.get<std::int64_t>() >= 0 && id.get<std::int64_t>() <= std::numeric_limits<std::int32_t>::max();
}

// "prompt": a string, or an array of strings, of token ids or of token-id arrays (OpenAI's
// batch shapes; only a single prompt is routed by its content).
field_error read_prompt(const json& p, inference_fields& f) {
  if (p.is_null()) return std::nullopt;
  if (p.is_string()) return f.prompt_text = p.get<std::string>(), std::nullopt;
  if (!p.is_array()) return bad_field("prompt", "must be a string or an array of strings or token ids");
  for (std::size_t i = 0; i < p.size(); ++i) {
    const json& e = p[i];
    std::string at = "prompt[" + std::to_string(i) + "]";
    if (e.is_string()) continue;
    if (e.is_number()) {
      if (!is_token_id(e)) return bad_field(at, "must be a token id (an integer from 0 to 2147483647)");
      continue;
    }
    if (!e.is_array()) return bad_field(at, "must be a string, a token id or an array of token ids");
    for (std::size_t k = 0; k < e.size(); ++k)
      if (!is_token_id(e[k]))
        return bad_field(at + "[" + std::to_string(k) + "]", "must be a token id (an integer from 0 to 2147483647)");
  }
  if (p.size() == 1 && p[0].is_string()) {
    f.prompt_text = p[0].get<std::string>();
  } else if (!p.empty() && std::all_of(p.begin(), p.end(), [](const json& e) { return e.is_number(); })) {
    for (const auto& id : p) f.prompt_tokens.push_back(static_cast<std::int32_t>(id.get<std::int64_t>()));
  }
  return std::nullopt;
}

field_error read_max_tokens(const json& j, const char* key, inference_fields& f) {
  auto mt = j.find(key);
  if (mt == j.end() || mt->is_null()) return std::nullopt;
  if (!mt->is_number_integer() || (mt->is_number_unsigned() && mt->get<std::uint64_t>() > INT64_MAX) ||
      mt->get<std::int64_t>() < 0)
    return bad_field(key, "must be a non-negative integer");
  if (f.max_tokens < 0) f.max_tokens = mt->get<std::int64_t>();
  return std::nullopt;
}

field_error read_routing_fields(const json& j, inference_fields& f) {
  if (auto so = j.find("stream_options"); so != j.end() && !so->is_null()) {
    if (!so->is_object()) return bad_field("stream_options", "must be an object");
    if (auto u = so->find("include_usage"); u != so->end() && !u->is_null()) {
      if (!u->is_boolean()) return bad_field("stream_options.include_usage", "must be a boolean");
      f.include_usage = u->get<bool>();
    }
  }
  // max_completion_tokens wins over max_tokens, as in the worker.
  for (const char* key : {"max_completion_tokens", "max_tokens"})
    if (auto e = read_max_tokens(j, key, f)) return e;
  if (auto u = j.find("user"); u != j.end() && !u->is_null()) {
    if (!u->is_string()) return bad_field("user", "must be a string");
    f.user = u->get<std::string>();
  }
  if (auto m = j.find("messages"); m != j.end())
    if (auto e = read_messages(*m, f)) return e;
  if (auto p = j.find("prompt"); p != j.end())
    if (auto e = read_prompt(*p, f)) return e;
  return std::nullopt;
}

}  // namespace

std::string inference_fields::prompt_bytes() const {
  if (prompt_text) return *prompt_text;
  std::string out;
  for (const auto& m : messages) {
    out += m.role;
    out += '\n';
    out += m.content;
    out += '\n';
  }
  return out;
}

std::size_t inference_fields::prompt_size() const {
  if (prompt_text) return prompt_text->size();
  if (!prompt_tokens.empty()) return prompt_tokens.size() * 4;
  std::size_t n = 0;
  for (const auto& m : messages) n += m.role.size() + m.content.size() + 2;
  return n;
}

http::result<inference_fields> read_inference_fields(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) return http::make_error(http::error_kind::bad_request, "the request body is not valid JSON");
  if (!j.is_object()) return http::make_error(http::error_kind::bad_request, "the request body must be a JSON object");
  inference_fields f;
  auto model = j.find("model");
  if (model == j.end()) return http::make_error(http::error_kind::bad_request, "'model' is required", "model");
  if (!model->is_string() || model->get_ref<const std::string&>().empty())
    return http::make_error(http::error_kind::bad_request, "'model' must be a non-empty string", "model");
  f.model = model->get<std::string>();
  if (auto s = j.find("stream"); s != j.end()) {
    if (s->is_boolean()) f.stream = s->get<bool>();
    else if (!s->is_null()) return http::make_error(http::error_kind::bad_request, "'stream' must be a boolean", "stream");
  }
  if (auto e = read_routing_fields(j, f)) return *e;
  return f;
}

}  // namespace laneway::gateway
