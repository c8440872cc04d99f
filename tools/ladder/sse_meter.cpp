// sse_meter: splits an OpenAI chat-completions SSE stream into events and times content deltas.
// A content delta is a chunk whose choices[0].delta.content is a non-empty string.
#include <nlohmann/json.hpp>

#include "tools/ladder/ladder_client.hpp"

namespace laneway::ladder {

namespace {
double seconds(ladder_clock::duration d) { return std::chrono::duration<double>(d).count(); }
}  // namespace

bool sse_meter::feed(const char* data, std::size_t n, ladder_clock::time_point now, std::string* why) {
  for (std::size_t i = 0; i < n; ++i)
    if (data[i] != '\r') pending_.push_back(data[i]);  // CRLF line endings read as LF
  for (;;) {
    auto end = pending_.find("\n\n");
    if (end == std::string::npos) return true;
    std::string event = pending_.substr(0, end);
    pending_.erase(0, end + 2);
    std::string payload;
    std::size_t pos = 0;
    while (pos < event.size()) {
      auto eol = event.find('\n', pos);
      std::string line = event.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
      pos = eol == std::string::npos ? event.size() : eol + 1;
      if (line.rfind("data:", 0) == 0) {
        std::string v = line.substr(5);
        if (!v.empty() && v[0] == ' ') v.erase(0, 1);
        payload += v;
      }
    }
    if (!payload.empty() && !on_event(payload, now, why)) return false;
  }
}

bool sse_meter::on_event(const std::string& data, ladder_clock::time_point now, std::string* why) {
  if (data == "[DONE]") {
    done_ = true;
    return true;
  }
  auto j = nlohmann::json::parse(data, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    if (why) *why = "SSE event is not a JSON object: " + data.substr(0, 80);
    return false;
  }
  if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
    prompt_tokens_ = u->value("prompt_tokens", 0L);
    completion_tokens_ = u->value("completion_tokens", 0L);
  }
  auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty()) return true;
  const auto& c0 = (*choices)[0];
  if (!c0.is_object()) return true;
  auto delta = c0.find("delta");
  if (delta == c0.end() || !delta->is_object()) return true;
  auto content = delta->find("content");
  if (content == delta->end() || !content->is_string() || content->get_ref<const std::string&>().empty()) return true;
  if (chunks_ == 0) {
    ttft_s_ = seconds(now - start_);
  } else {
    gaps_s_.push_back(seconds(now - last_));
  }
  last_ = now;
  ++chunks_;
  return true;
}

}  // namespace laneway::ladder
