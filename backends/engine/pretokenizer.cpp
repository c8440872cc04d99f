// PCRE2-backed pre-tokenizer; see pretokenizer.hpp. Each pattern is compiled once with
// PCRE2_UTF | PCRE2_UCP (so \s, \p{L}, \p{N} are Unicode-aware, as in the peer) and
// PCRE2_DOLLAR_ENDONLY (`$` only at the very end, as std::regex in the peer). A piece is matched
// as its own subject, so look-aheads such as \s+(?!\S) stop at the piece's end, as in the peer.
// Input is valid UTF-8 (the tokenizer sanitizes it first), so matching skips the UTF check.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "backends/engine/pretokenizer.hpp"

#include <pcre2.h>

#include <stdexcept>
#include <string>

namespace laneway::engine {

namespace {

constexpr std::string_view gpt2_pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
constexpr std::string_view llama3_pattern =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
    " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr std::string_view qwen2_pattern =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|"
    " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr std::string_view cjk_pattern = "[一-龥ࠀ-一가-퟿]+";
constexpr std::string_view deepseek_llm_letters =
    "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-"
    "ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-"
    "ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+";

struct compiled_pattern {
  pcre2_code* code = nullptr;
  bool jit = false;
};

}  // namespace

struct pretokenizer::impl {
  std::vector<compiled_pattern> passes;
  ~impl() {
    for (auto& p : passes) pcre2_code_free(p.code);
  }
};

std::vector<std::string_view> pretokenizer::patterns(pre_type type) {
  switch (type) {
    case pre_type::gpt2: return {gpt2_pattern};
    case pre_type::llama3: return {llama3_pattern};
    case pre_type::qwen2: return {qwen2_pattern};
    case pre_type::starcoder: return {"\\p{N}", gpt2_pattern};
    case pre_type::deepseek_coder: return {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", cjk_pattern, "\\p{N}"};
    case pre_type::deepseek_llm:
      return {"[\r\n]", deepseek_llm_letters, "\\s?[!-/:-~！-／：-～‘-‟　-。]+", "\\s+$", cjk_pattern, "\\p{N}+"};
    case pre_type::falcon: return {"[\\p{P}\\$\\+<=>\\^~\\|`]+", gpt2_pattern, "[0-9][0-9][0-9]"};
    case pre_type::peer_default:
      return {"[\\p{P}\\$\\+<=>\\^~\\|]+", gpt2_pattern, "\\p{N}+", "[0-9][0-9][0-9]"};
  }
  return {gpt2_pattern};
}

pretokenizer::pretokenizer(pre_type type) : impl_(std::make_unique<impl>()) {
  uint32_t jit_ok = 0;
  pcre2_config(PCRE2_CONFIG_JIT, &jit_ok);
  for (const std::string_view pattern : patterns(type)) {
    int err = 0;
    PCRE2_SIZE err_at = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &err, &err_at, nullptr);
    if (code == nullptr) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      throw std::runtime_error("pre-tokenizer pattern fails to compile at " + std::to_string(err_at) + ": " +
                               reinterpret_cast<const char*>(msg));
    }
    compiled_pattern p{code, false};
    if (jit_ok) p.jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    impl_->passes.push_back(p);
  }
}

pretokenizer::~pretokenizer() = default;
pretokenizer::pretokenizer(pretokenizer&&) noexcept = default;
pretokenizer& pretokenizer::operator=(pretokenizer&&) noexcept = default;

bool pretokenizer::jit() const {
  for (const auto& p : impl_->passes)
    if (!p.jit) return false;
  return true;
}

void pretokenizer::split(std::string_view text, std::vector<text_span>& out) const {
  const std::size_t first = out.size();
  out.push_back({0, static_cast<uint32_t>(text.size())});
  if (text.empty()) {
    out.pop_back();
    return;
  }
  pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
  std::vector<text_span> in;
  for (const auto& pass : impl_->passes) {
    in.assign(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
    out.resize(first);
    for (const text_span piece : in) {
      const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data() + piece.offset);
      uint32_t pos = 0, last_end = 0;
      while (pos < piece.length) {
        int rc = pass.jit ? pcre2_jit_match(pass.code, subject, piece.length, pos, 0, md, nullptr)
                          : pcre2_match(pass.code, subject, piece.length, pos, PCRE2_NO_UTF_CHECK, md, nullptr);
        if (rc < 0 && rc != PCRE2_ERROR_NOMATCH && pass.jit) {  // e.g. JIT stack limit: interpret
          rc = pcre2_match(pass.code, subject, piece.length, pos, PCRE2_NO_UTF_CHECK, md, nullptr);
        }
        if (rc < 0) break;  // no match (or an error): the rest stays one piece
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        const auto ms = static_cast<uint32_t>(ov[0]), me = static_cast<uint32_t>(ov[1]);
        if (me == ms) {  // empty match: cannot happen with these patterns; step one character
          pos = ms + 1;
          while (pos < piece.length && (static_cast<unsigned char>(text[piece.offset + pos]) & 0xC0) == 0x80) ++pos;
          continue;
        }
        if (ms > last_end) out.push_back({piece.offset + last_end, ms - last_end});
        out.push_back({piece.offset + ms, me - ms});
        last_end = pos = me;
      }
      if (last_end < piece.length) out.push_back({piece.offset + last_end, piece.length - last_end});
    }
  }
  pcre2_match_data_free(md);
}

}  // namespace laneway::engine
