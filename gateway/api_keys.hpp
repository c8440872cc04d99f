// API keys: a client's `Authorization: Bearer KEY` is hashed (SHA-256, OpenSSL EVP) and compared
// in constant time (CRYPTO_memcmp) with every configured hash, so neither the keys nor their
// hashes' prefixes leak through timing; the config only ever holds hashes. A [[keys]] entry may
// also name a client certificate (its SHA-256 fingerprint or subject CN): a connection whose
// verified certificate matches gets the same grant a key would (docs/tls.md).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config.hpp"

namespace laneway::gateway {

using sha256_digest = std::array<std::uint8_t, 32>;

sha256_digest sha256(std::string_view data);
std::string to_hex(const sha256_digest& digest);
std::optional<sha256_digest> from_hex(std::string_view hex);  // nullopt unless 64 hex digits
// "AB:CD:..." (as openssl prints fingerprints) or "abcd..." → 64 lowercase hex digits; empty
// when it is not a SHA-256.
std::string normalize_sha256(std::string_view text);

// What a valid key grants.
struct key_grant {
  std::string name;    // the key's config name (never the key itself): logs and metrics
  std::string tenant;
  std::string lane;    // empty: classified by the lanes' match rules
  bool allow_lane_header = false;
};

// The key from an Authorization header value ("Bearer KEY", scheme case-insensitive); empty
// when the header is absent or not a bearer token.
std::string_view bearer_token(std::string_view authorization);

class key_table {
 public:
  key_table() = default;
  explicit key_table(const std::vector<key_config>& keys);

  bool required() const { return !entries_.empty() || !certificates_.empty(); }
  // The grant of `key`, or nullopt. Every entry is compared (no early exit).
  std::optional<key_grant> find(std::string_view key) const;
  // The grant of a verified client certificate: the entry naming its fingerprint (and, if it
  // also names a CN, that CN), else one naming only its subject CN; nullopt when none does.
  std::optional<key_grant> find_certificate(const std::string& sha256_hex, const std::string& subject_cn) const;

 private:
  struct entry {
    sha256_digest digest;
    key_grant grant;
  };
  struct certificate_entry {
    std::string sha256;  // empty: matched by CN only
    std::string cn;
    key_grant grant;
  };
  std::vector<entry> entries_;
  std::vector<certificate_entry> certificates_;
};

}  // namespace laneway::gateway
