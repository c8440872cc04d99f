// OpenAI request parsing (see openai_request.hpp). Each field has one reader that checks its
// JSON type and range and names the field in the error; the tables at the top say which fields
// are understood, which are accepted and ignored (no effect on a local engine), and the rest is
// rejected as unrecognized.
#include "backends/worker/openai_request.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "backends/engine/stop_strings.hpp"

namespace laneway::worker {

namespace {

using json = nlohmann::json;
using http::error_kind;

// Accepted and without effect here (metadata for OpenAI's own platform).
constexpr std::string_view ignored_fields[] = {"user", "metadata", "store", "service_tier", "parallel_tool_calls"};

http::error bad(std::string message, std::string param) {
  return http::make_error(error_kind::bad_request, std::move(message), std::move(param));
}

class field_reader {
 public:
  explicit field_reader(const json& obj) : obj_(obj) {}

  std::optional<http::error> error;  // the first problem found

  const json* get(std::string_view key) {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  void fail(std::string message, std::string_view key) {
    if (!error) error = bad(std::move(message), std::string(key));
  }

  void boolean(std::string_view key, bool& out) {
    if (const json* v = get(key)) {
      if (!v->is_boolean()) return fail(std::string(key) + " must be a boolean", key);
      out = v->get<bool>();
    }
  }
  void number(std::string_view key, double lo, double hi, float& out) {
    if (const json* v = get(key)) {
      if (!v->is_number()) return fail(std::string(key) + " must be a number", key);
      double d = v->get<double>();
      if (!std::isfinite(d) || d < lo || d > hi)
        return fail(std::string(key) + " must be between " + trim(lo) + " and " + trim(hi) + ", got " + trim(d), key);
      out = static_cast<float>(d);
    }
  }
  template <typename T>
  bool integer(std::string_view key, int64_t lo, int64_t hi, T& out) {
    const json* v = get(key);
    if (!v) return false;
    if (!v->is_number_integer() && !(v->is_number_float() && is_whole(v->get<double>()))) {
      fail(std::string(key) + " must be an integer", key);
      return false;
    }
    int64_t i = v->is_number_unsigned() ? static_cast<int64_t>(std::min<uint64_t>(v->get<uint64_t>(), INT64_MAX))
                                        : (v->is_number_float() ? static_cast<int64_t>(v->get<double>()) : v->get<int64_t>());
    if (i < lo || i > hi) {
      fail(std::string(key) + " must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
               std::to_string(i), key);
      return false;
    }
    out = static_cast<T>(i);
    return true;
  }
  void string(std::string_view key, std::string& out) {
    if (const json* v = get(key)) {
      if (!v->is_string()) return fail(std::string(key) + " must be a string", key);
      out = v->get<std::string>();
    }
  }
  // "stop": a string or an array of strings.
  void stop(std::vector<std::string>& out) {
    const json* v = get("stop");
    if (!v) return;
    if (v->is_string()) out.push_back(v->get<std::string>());
    else if (v->is_array()) {
      for (const auto& s : *v) {
        if (!s.is_string()) return fail("stop must be a string or an array of strings", "stop");
        out.push_back(s.get<std::string>());
      }
    } else {
      return fail("stop must be a string or an array of strings", "stop");
    }
    if (auto why = engine::validate_stop_strings(out)) fail(*why, "stop");
  }
  void token_list(std::string_view key, std::vector<int32_t>& out) {
    const json* v = get(key);
    if (!v) return;
    if (!v->is_array()) return fail(std::string(key) + " must be an array of token ids", key);
    for (const auto& t : *v) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > std::numeric_limits<int32_t>::max())
        return fail(std::string(key) + " must be an array of non-negative integer token ids", key);
      out.push_back(static_cast<int32_t>(t.get<int64_t>()));
    }
  }

 private:
  static bool is_whole(double d) { return std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15; }
  static std::string trim(double d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", d);
    return buf;
  }
  const json& obj_;
};

http::result<json> parse_object(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) return bad("the request body is not valid JSON", "");
  if (!j.is_object()) return bad("the request body must be a JSON object", "");
  return j;
}

std::optional<http::error> check_unknown(const json& j, std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : j.items()) {
    bool ok = std::find(known.begin(), known.end(), key) != known.end() ||
              std::find(std::begin(ignored_fields), std::end(ignored_fields), key) != std::end(ignored_fields);
    if (!ok) return bad("Unrecognized request argument supplied: " + key, key);
  }
  return std::nullopt;
}

// Fields that exist in the OpenAI API but that this engine cannot honour: accepted only in their
// neutral form, else a 400 that says so.
void check_unsupported(field_reader& r) {
  if (const json* n = r.get("n"); n && !(n->is_number_integer() && n->get<int64_t>() == 1))
    r.fail("n must be 1 (one choice per request is supported)", "n");
  if (const json* b = r.get("best_of"); b && !(b->is_number_integer() && b->get<int64_t>() == 1))
    r.fail("best_of must be 1", "best_of");
  if (const json* lb = r.get("logit_bias"); lb && !(lb->is_object() && lb->empty()))
    r.fail("logit_bias is not supported", "logit_bias");
  if (const json* rf = r.get("response_format");
      rf && !(rf->is_object() && rf->contains("type") && (*rf)["type"] == "text"))
    r.fail("response_format other than {\"type\": \"text\"} is not supported", "response_format");
  if (const json* t = r.get("tools"); t && !(t->is_array() && t->empty()))
    r.fail("tools are not supported by this worker", "tools");
  if (const json* tc = r.get("tool_choice"); tc && !(tc->is_string() && *tc == "none"))
    r.fail("tool_choice is not supported by this worker", "tool_choice");
}

// Sampling fields shared by both endpoints.
void read_sampling(field_reader& r, completion_request& req) {
  auto& s = req.sampling;
  r.number("temperature", 0, 2, s.temperature);
  r.number("top_p", 0, 1, s.top_p);
  if (r.get("top_p") && s.top_p <= 0) r.fail("top_p must be in (0, 1]", "top_p");
  r.integer("top_k", -1, std::numeric_limits<int32_t>::max(), s.top_k);
  r.number("min_p", 0, 1, s.min_p);
  r.number("presence_penalty", -2, 2, s.presence_penalty);
  r.number("frequency_penalty", -2, 2, s.frequency_penalty);
  r.number("repetition_penalty", 0, 10, s.repetition_penalty);
  if (r.get("repetition_penalty") && s.repetition_penalty <= 0)
    r.fail("repetition_penalty must be > 0", "repetition_penalty");
  if (const json* v = r.get("seed")) {
    if (v->is_number_unsigned()) s.seed = v->get<uint64_t>();
    else if (v->is_number_integer()) s.seed = static_cast<uint64_t>(v->get<int64_t>());
    else r.fail("seed must be an integer", "seed");
  }
  int32_t max_tokens = 0;
  if (r.integer("max_completion_tokens", 1, std::numeric_limits<int32_t>::max(), max_tokens)) s.max_tokens = max_tokens;
  else if (r.integer("max_tokens", 1, std::numeric_limits<int32_t>::max(), max_tokens)) s.max_tokens = max_tokens;
  r.stop(req.stop);
  r.token_list("stop_token_ids", req.stop_token_ids);
  r.boolean("ignore_eos", req.ignore_eos);
  r.boolean("stream", req.stream);
  if (const json* so = r.get("stream_options")) {
    if (!so->is_object()) return r.fail("stream_options must be an object", "stream_options");
    if (!req.stream) return r.fail("stream_options is only allowed when stream is true", "stream_options");
    auto it = so->find("include_usage");
    if (it != so->end() && !it->is_null()) {
      if (!it->is_boolean()) return r.fail("stream_options.include_usage must be a boolean", "stream_options.include_usage");
      req.include_usage = it->get<bool>();
    }
  }
  r.string("model", req.model);
  r.string("user", req.user);
  check_unsupported(r);
}

// A message's content: a string or an array of {"type":"text","text":...} parts.
std::optional<std::string> message_content(const json& c, std::string& why) {
  if (c.is_string()) return c.get<std::string>();
  if (c.is_null()) return std::string();
  if (!c.is_array()) return why = "must be a string or an array of text parts", std::nullopt;
  std::string text;
  for (const auto& part : c) {
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
      return why = "parts must be objects with a \"type\"", std::nullopt;
    if (part["type"] != "text") return why = "only text parts are supported (got \"" + part["type"].get<std::string>() + "\")", std::nullopt;
    if (!part.contains("text") || !part["text"].is_string()) return why = "a text part needs a string \"text\"", std::nullopt;
    text += part["text"].get<std::string>();
  }
  return text;
}

std::optional<http::error> read_messages(const json& j, std::vector<engine::chat_message>& out, bool required) {
  auto it = j.find("messages");
  if (it == j.end() || it->is_null()) {
    if (required) return bad("messages is required", "messages");
    return std::nullopt;
  }
  if (!it->is_array()) return bad("messages must be an array", "messages");
  if (it->empty()) return bad("messages must not be empty", "messages");
  static constexpr std::string_view roles[] = {"system", "developer", "user", "assistant", "tool"};
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& m = (*it)[i];
    std::string at = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return bad(at + " must be an object", at);
    if (!m.contains("role") || !m["role"].is_string()) return bad(at + ".role must be a string", at + ".role");
    std::string role = m["role"].get<std::string>();
    if (std::find(std::begin(roles), std::end(roles), role) == std::end(roles))
      return bad(at + ".role must be one of system, developer, user, assistant, tool (got \"" + role + "\")", at + ".role");
    std::string why;
    auto content = message_content(m.contains("content") ? m["content"] : json(), why);
    if (!content) return bad(at + ".content " + why, at + ".content");
    out.push_back({role == "developer" ? "system" : role, std::move(*content)});
  }
  return std::nullopt;
}

}  // namespace

http::result<completion_request> parse_chat_request(std::string_view body) {
  auto parsed = parse_object(body);
  if (!parsed) return parsed.err();
  const json& j = *parsed;
  if (auto e = check_unknown(j, {"model", "messages", "frequency_penalty", "logit_bias", "logprobs", "top_logprobs",
                                 "max_tokens", "max_completion_tokens", "n", "presence_penalty", "response_format", "seed",
                                 "stop", "stream", "stream_options", "temperature", "top_p", "tools", "tool_choice",
                                 "top_k", "min_p", "repetition_penalty", "ignore_eos", "stop_token_ids"}))
    return *e;
  completion_request req;
  req.kind = api_kind::chat;
  if (auto e = read_messages(j, req.messages, true)) return *e;
  field_reader r(j);
  read_sampling(r, req);
  r.boolean("logprobs", req.sampling.logprobs);
  r.integer("top_logprobs", 0, engine::max_top_logprobs, req.sampling.top_logprobs);
  if (req.sampling.top_logprobs > 0 && !req.sampling.logprobs)
    r.fail("top_logprobs requires logprobs to be true", "top_logprobs");
  if (r.error) return *r.error;
  return req;
}

http::result<completion_request> parse_completion_request(std::string_view body) {
  auto parsed = parse_object(body);
  if (!parsed) return parsed.err();
  const json& j = *parsed;
  if (auto e = check_unknown(j, {"model", "prompt", "frequency_penalty", "logit_bias", "logprobs", "max_tokens", "n",
                                 "presence_penalty", "seed", "stop", "stream", "stream_options", "temperature", "top_p",
                                 "echo", "best_of", "top_k", "min_p", "repetition_penalty", "ignore_eos",
                                 "stop_token_ids", "suffix"}))
    return *e;
  completion_request req;
  req.kind = api_kind::completion;
  auto p = j.find("prompt");
  if (p == j.end() || p->is_null()) return bad("prompt is required", "prompt");
  if (p->is_string()) {
    req.prompt_text = p->get<std::string>();
  } else if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) {
    req.prompt_text = (*p)[0].get<std::string>();
  } else if (p->is_array() && !p->empty() && std::all_of(p->begin(), p->end(), [](const json& t) { return t.is_number_integer(); })) {
    for (const auto& t : *p) {
      int64_t id = t.get<int64_t>();
      if (id < 0 || id > std::numeric_limits<int32_t>::max()) return bad("prompt token ids must be non-negative", "prompt");
      req.prompt_tokens.push_back(static_cast<int32_t>(id));
    }
  } else if (p->is_array() && p->size() > 1) {
    return bad("prompt: a batch of several prompts is not supported; send one request per prompt", "prompt");
  } else {
    return bad("prompt must be a string or an array of token ids", "prompt");
  }
  if (auto s = j.find("suffix"); s != j.end() && !s->is_null()) return bad("suffix is not supported", "suffix");
  field_reader r(j);
  read_sampling(r, req);
  r.boolean("echo", req.echo);
  int32_t lp = 0;
  if (r.integer("logprobs", 0, engine::max_top_logprobs, lp)) {
    req.sampling.logprobs = true;
    req.sampling.top_logprobs = lp;
  }
  if (r.error) return *r.error;
  return req;
}

http::result<tokenize_request> parse_tokenize_request(std::string_view body) {
  auto parsed = parse_object(body);
  if (!parsed) return parsed.err();
  const json& j = *parsed;
  if (auto e = check_unknown(j, {"model", "prompt", "messages", "add_special_tokens", "add_generation_prompt"})) return *e;
  tokenize_request req;
  if (auto e = read_messages(j, req.messages, false)) return *e;
  field_reader r(j);
  std::string prompt;
  if (r.get("prompt")) {
    r.string("prompt", prompt);
    req.prompt = prompt;
  }
  r.boolean("add_special_tokens", req.add_special_tokens);
  r.boolean("add_generation_prompt", req.add_generation_prompt);
  if (r.error) return *r.error;
  if (req.prompt && !req.messages.empty()) return bad("give either prompt or messages, not both", "prompt");
  if (!req.prompt && req.messages.empty()) return bad("prompt or messages is required", "prompt");
  return req;
}

http::result<std::vector<int32_t>> parse_detokenize_request(std::string_view body) {
  auto parsed = parse_object(body);
  if (!parsed) return parsed.err();
  const json& j = *parsed;
  if (auto e = check_unknown(j, {"model", "tokens"})) return *e;
  field_reader r(j);
  std::vector<int32_t> tokens;
  if (!r.get("tokens")) return bad("tokens is required", "tokens");
  r.token_list("tokens", tokens);
  if (r.error) return *r.error;
  return tokens;
}

}  // namespace laneway::worker
