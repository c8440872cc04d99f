// sha256_hex / sha256_file over OpenSSL's EVP interface (see digest.hpp).
#include "tools/ladder/digest.hpp"

#include <openssl/evp.h>

#include <cstdio>
#include <memory>
#include <vector>

namespace laneway::ladder {

namespace {

struct md_ctx_free {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::string hex(const unsigned char* p, unsigned n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return hex(md, n);
}

std::optional<std::string> sha256_file(const std::string& path, std::string* why) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    if (why) *why = path + ": cannot open the file to digest it";
    return std::nullopt;
  }
  std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<unsigned char> buf(1 << 20);
  for (;;) {
    std::size_t got = std::fread(buf.data(), 1, buf.size(), f.get());
    if (got > 0) EVP_DigestUpdate(ctx.get(), buf.data(), got);
    if (got < buf.size()) break;
  }
  if (std::ferror(f.get())) {
    if (why) *why = path + ": read error while digesting it";
    return std::nullopt;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &n);
  return hex(md, n);
}

}  // namespace laneway::ladder
