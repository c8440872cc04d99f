// UTF-8 helpers shared by the tokenizers and the detokenizer: sequence lengths as the peer
// (llama.cpp) computes them, sanitizing text for the regex pre-tokenizer, the GPT-2 byte-level
// map, and finding an incomplete UTF-8 sequence at the end of a buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace laneway::engine {

// Length of the UTF-8 sequence that starts with `lead`, from its top four bits (1 for ASCII and
// stray continuation bytes, 2, 3 or 4). Callers clamp it to the bytes left.
inline std::size_t utf8_len(unsigned char lead) {
  static constexpr unsigned char lens[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return lens[lead >> 4];
}

void append_utf8(std::string& out, uint32_t cp);

// Rewrites `text` so that it is valid UTF-8, decoding as the peer does (a byte that does not
// start a complete sequence becomes U+FFFD and decoding resumes at the next byte; an overlong
// sequence becomes its shortest form; surrogates and code points past U+10FFFF become U+FFFD).
// Returns false and leaves `out` untouched when `text` is already valid (the common case).
bool sanitize_utf8(std::string_view text, std::string& out);

// GPT-2 byte-level map: every byte has a printable code point (bytes 0x21-0x7E, 0xA1-0xAC,
// 0xAE-0xFF map to themselves, the other 68 to U+0100 + n in order; space -> "Ġ").
std::string_view byte_to_unicode(unsigned char b);  // UTF-8 of the mapped code point
// Undoes the map for a whole token text; false when some character is not in the map.
bool unicode_to_bytes(std::string_view mapped, std::string& out);

// Number of bytes at the end of `s` that form the start of a UTF-8 sequence whose remaining
// bytes have not arrived yet (0 when `s` ends on a boundary or with bytes that can never
// complete). The streaming detokenizer holds these back.
std::size_t incomplete_utf8_suffix(std::string_view s);

}  // namespace laneway::engine
