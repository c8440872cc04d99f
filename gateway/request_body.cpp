// Reading the routing fields of a request body (see request_body.hpp). One non-throwing parse;
// fields of an unexpected shape that only routing uses are ignored (the node answers for them).
#include "gateway/request_body.hpp"

#include <limits>
#include <nlohmann/json.hpp>

namespace laneway::gateway {

using json = nlohmann::json;

namespace {

// A message's content as the worker reads it: a string, null, or text parts concatenated.
std::string content_text(const json& c) {
  if (c.is_string()) return c.get<std::string>();
  std::string text;
  if (!c.is_array()) return text;
  for (const auto& part : c) {
    if (!part.is_object()) continue;
    auto t = part.find("text");
    auto type = part.find("type");
    if (t != part.end() && t->is_string() && type != part.end() && *type == "text") text += t->get<std::string>();
  }
  return text;
}

void read_prompt(const json& j, inference_fields& f) {
  if (auto m = j.find("messages"); m != j.end() && m->is_array()) {
    for (const auto& msg : *m) {
      if (!msg.is_object()) continue;
      auto role = msg.find("role");
      if (role == msg.end() || !role->is_string()) continue;
      std::string r = role->get<std::string>();
      auto content = msg.find("content");
      f.messages.push_back({r == "developer" ? "system" : r, content == msg.end() ? "" : content_text(*content)});
    }
  }
  if (auto p = j.find("prompt"); p != j.end()) {
    if (p->is_string()) f.prompt_text = p->get<std::string>();
    else if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) f.prompt_text = (*p)[0].get<std::string>();
    else if (p->is_array()) {
      for (const auto& id : *p) {
        if (!id.is_number_integer() || id.get<std::int64_t>() < 0 ||
            id.get<std::int64_t>() > std::numeric_limits<std::int32_t>::max()) {
          f.prompt_tokens.clear();
          break;
        }
        f.prompt_tokens.push_back(static_cast<std::int32_t>(id.get<std::int64_t>()));
      }
    }
  }
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
  if (auto so = j.find("stream_options"); so != j.end() && so->is_object()) {
    auto u = so->find("include_usage");
    f.include_usage = u != so->end() && u->is_boolean() && u->get<bool>();
  }
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    auto mt = j.find(key);
    if (mt != j.end() && mt->is_number_integer() && mt->get<std::int64_t>() >= 0) f.max_tokens = mt->get<std::int64_t>();
  }
  if (auto u = j.find("user"); u != j.end() && u->is_string()) f.user = u->get<std::string>();
  read_prompt(j, f);
  return f;
}

}  // namespace laneway::gateway
