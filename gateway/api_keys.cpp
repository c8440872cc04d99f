// SHA-256 through OpenSSL's EVP interface and the constant-time key lookup (see api_keys.hpp).
#include "gateway/api_keys.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cctype>
#include <memory>
#include <stdexcept>

namespace laneway::gateway {

sha256_digest sha256(std::string_view data) {
  sha256_digest out{};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size()) {
    throw std::runtime_error("OpenSSL SHA-256 failed");
  }
  return out;
}

std::string to_hex(const sha256_digest& digest) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (auto b : digest) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::optional<sha256_digest> from_hex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  sha256_digest out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view scheme = "bearer ";
  if (authorization.size() <= scheme.size()) return {};
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    char c = authorization[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != scheme[i]) return {};
  }
  std::string_view key = authorization.substr(scheme.size());
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.remove_suffix(1);
  return key;
}

std::string normalize_sha256(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out.size() == 64 ? out : std::string();
}

key_table::key_table(const std::vector<key_config>& keys) {
  for (const auto& k : keys) {
    key_grant grant{k.name, k.tenant, k.lane, k.allow_lane_header};
    if (!k.cert_sha256.empty() || !k.cert_cn.empty()) certificates_.push_back({k.cert_sha256, k.cert_cn, grant});
    if (k.sha256.empty()) continue;  // a certificate-only identity
    auto digest = from_hex(k.sha256);
    if (!digest) throw std::invalid_argument("key " + k.name + ": sha256 is not 64 hex digits");
    entries_.push_back({*digest, grant});
  }
}

std::optional<key_grant> key_table::find_certificate(const std::string& sha256_hex, const std::string& subject_cn) const {
  // Fingerprints are public (the certificate is sent in the clear before TLS 1.3): no
  // constant-time compare needed; the CA's signature is what makes the match mean something.
  // An entry naming both must match both; one naming the fingerprint wins over a CN-only one.
  for (const auto& c : certificates_)
    if (!c.sha256.empty() && c.sha256 == sha256_hex && (c.cn.empty() || c.cn == subject_cn)) return c.grant;
  if (subject_cn.empty()) return std::nullopt;
  for (const auto& c : certificates_)
    if (c.sha256.empty() && c.cn == subject_cn) return c.grant;
  return std::nullopt;
}

std::optional<key_grant> key_table::find(std::string_view key) const {
  if (key.empty()) return std::nullopt;
  const sha256_digest digest = sha256(key);
  const entry* match = nullptr;
  for (const auto& e : entries_) {
    bool same = CRYPTO_memcmp(e.digest.data(), digest.data(), digest.size()) == 0;
    if (same && !match) match = &e;
  }
  if (!match) return std::nullopt;
  return match->grant;
}

}  // namespace laneway::gateway
