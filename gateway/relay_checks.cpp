// SSE event boundaries and JSON validity for the relay (see relay_checks.hpp).
#include "gateway/relay_checks.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

namespace laneway::gateway {

std::size_t sse_whole_events_length(std::string_view bytes) {
  std::size_t end = 0;
  if (auto lf = bytes.rfind("\n\n"); lf != std::string_view::npos) end = lf + 2;
  if (auto crlf = bytes.rfind("\r\n\r\n"); crlf != std::string_view::npos) end = std::max(end, crlf + 4);
  return end;
}

namespace {

// Accepts every value and remembers where the parser gave up; builds nothing.
struct error_offset_sax : nlohmann::json_sax<nlohmann::json> {
  std::optional<std::size_t> offset;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) override {
    offset = position > 0 ? position - 1 : 0;  // the parser counts the offending byte as read
    return false;
  }
};

}  // namespace

std::optional<std::size_t> json_error_offset(std::string_view body) {
  error_offset_sax sax;
  bool ok = nlohmann::json::sax_parse(body.begin(), body.end(), &sax);
  if (ok) return std::nullopt;
  return sax.offset.value_or(body.size());
}

}  // namespace laneway::gateway
