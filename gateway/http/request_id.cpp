// Request id validation and generation.
#include "gateway/http/request_id.hpp"

#include <cstdint>
#include <random>

namespace laneway::http {

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  auto put = [&](std::uint64_t v, int from_nibble, int count) {
    for (int i = from_nibble; i < from_nibble + count; ++i) out += hex[(v >> (60 - 4 * i)) & 0xf];
  };
  put(hi, 0, 8); out += '-';
  put(hi, 8, 4); out += '-';
  put(hi, 12, 4); out += '-';
  put(lo, 0, 4); out += '-';
  put(lo, 4, 12);
  return out;
}

std::string accept_request_id(std::string_view client_id) {
  return valid_request_id(client_id) ? std::string(client_id) : new_request_id();
}

}  // namespace laneway::http
