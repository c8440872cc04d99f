// UTF-8 helpers; see unicode.hpp. The byte-level table is built once on first use.
#include "backends/engine/unicode.hpp"

#include <array>
#include <unordered_map>

namespace laneway::engine {

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

namespace {

constexpr uint32_t replacement = 0xFFFD;

// Decodes one code point at `i` the way the peer does; returns the byte length consumed, or 0
// when the bytes at `i` are not a complete sequence (the caller emits U+FFFD and skips one byte).
std::size_t decode(std::string_view s, std::size_t i, uint32_t& cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  const unsigned char b0 = b(0);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  if (!(b0 & 0x40)) return 0;
  if (!(b0 & 0x20)) {
    if (!cont(1)) return 0;
    cp = ((b0 & 0x1Fu) << 6) | (b(1) & 0x3Fu);
    return 2;
  }
  if (!(b0 & 0x10)) {
    if (!cont(1) || !cont(2)) return 0;
    cp = ((b0 & 0x0Fu) << 12) | ((b(1) & 0x3Fu) << 6) | (b(2) & 0x3Fu);
    return 3;
  }
  if (!(b0 & 0x08)) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    cp = ((b0 & 0x07u) << 18) | ((b(1) & 0x3Fu) << 12) | ((b(2) & 0x3Fu) << 6) | (b(3) & 0x3Fu);
    return 4;
  }
  return 0;
}

std::size_t canonical_len(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

bool pcre_valid(uint32_t cp) { return cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF); }

struct byte_map {
  std::array<std::string, 256> to_unicode;
  std::unordered_map<uint32_t, unsigned char> from_unicode;
  byte_map() {
    uint32_t n = 0;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool same = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const uint32_t cp = same ? b : 0x100 + n++;
      append_utf8(to_unicode[b], cp);
      from_unicode.emplace(cp, static_cast<unsigned char>(b));
    }
  }
};

const byte_map& the_byte_map() {
  static const byte_map m;
  return m;
}

}  // namespace

bool sanitize_utf8(std::string_view text, std::string& out) {
  std::size_t i = 0;
  uint32_t cp = 0;
  // Fast scan: find the first byte that needs rewriting.
  for (; i < text.size();) {
    const std::size_t n = decode(text, i, cp);
    if (n == 0 || n != canonical_len(cp) || !pcre_valid(cp)) break;
    i += n;
  }
  if (i == text.size()) return false;
  out.assign(text.data(), i);
  while (i < text.size()) {
    const std::size_t n = decode(text, i, cp);
    if (n == 0) {
      append_utf8(out, replacement);
      i += 1;
      continue;
    }
    append_utf8(out, pcre_valid(cp) ? cp : replacement);
    i += n;
  }
  return true;
}

std::string_view byte_to_unicode(unsigned char b) { return the_byte_map().to_unicode[b]; }

bool unicode_to_bytes(std::string_view mapped, std::string& out) {
  out.clear();
  const auto& m = the_byte_map().from_unicode;
  for (std::size_t i = 0; i < mapped.size();) {
    uint32_t cp = 0;
    const std::size_t n = decode(mapped, i, cp);
    if (n == 0) return false;
    const auto it = m.find(cp);
    if (it == m.end()) return false;
    out += static_cast<char>(it->second);
    i += n;
  }
  return true;
}

std::size_t incomplete_utf8_suffix(std::string_view s) {
  // Look back at most 3 bytes for a lead byte whose sequence runs past the end.
  const std::size_t n = s.size();
  for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation: keep looking for the lead
    if (c < 0xC0 || c >= 0xF8) return 0;  // ASCII or invalid lead: nothing to wait for
    const std::size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    return need > back ? back : 0;
  }
  return 0;
}

}  // namespace laneway::engine
