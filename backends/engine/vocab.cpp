// Loads a vocab from GGUF metadata. Defaults follow the peer (llama.cpp): SentencePiece adds BOS
// (id 1) and a space prefix; byte-level BPE adds no BOS unless the pre-tokenizer is llama3 or
// tokenizer.ggml.add_bos_token says so. Tokens named like end-of-turn markers join the EOG set
// and are promoted to control, as the peer does, so they are never produced from plain text.
#include "backends/engine/vocab.hpp"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>

#include "backends/engine/gguf.hpp"
#include "backends/engine/unicode.hpp"

namespace laneway::engine {

namespace {

struct pre_name_row {
  std::string_view name;
  pre_type type;
};

constexpr pre_name_row pre_names[] = {
    {"default", pre_type::peer_default},  {"gpt-2", pre_type::gpt2},
    {"mpt", pre_type::gpt2},              {"olmo", pre_type::gpt2},
    {"phi-2", pre_type::gpt2},            {"roberta-bpe", pre_type::gpt2},
    {"jina-es", pre_type::gpt2},          {"jina-de", pre_type::gpt2},
    {"llama3", pre_type::llama3},         {"llama-v3", pre_type::llama3},
    {"llama-bpe", pre_type::llama3},      {"falcon3", pre_type::llama3},
    {"dbrx", pre_type::llama3},           {"smaug-bpe", pre_type::llama3},
    {"qwen2", pre_type::qwen2},           {"deepseek-r1-qwen", pre_type::qwen2},
    {"stablelm2", pre_type::qwen2},       {"megrez", pre_type::qwen2},
    {"starcoder", pre_type::starcoder},   {"refact", pre_type::starcoder},
    {"smollm", pre_type::starcoder},      {"command-r", pre_type::starcoder},
    {"codeshell", pre_type::starcoder},   {"exaone", pre_type::starcoder},
    {"deepseek-coder", pre_type::deepseek_coder}, {"deepseek-llm", pre_type::deepseek_llm},
    {"falcon", pre_type::falcon},
};

// Texts the peer treats as end of turn / end of generation even when typed as normal tokens.
constexpr std::string_view eot_texts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                                          "<|endoftext|>", "<EOT>", "_<EOT>", "<｜end▁of▁sentence｜>",
                                          "<end_of_utterance>"};
constexpr std::string_view eog_texts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
                                          "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>",
                                          "<end_of_utterance>"};

token_id optional_id(const gguf_file& f, std::string_view key, token_id fallback, std::size_t n) {
  const auto v = f.find_u32(key);
  if (!v) return fallback;
  if (*v >= n) return no_token;  // e.g. 0xFFFFFFFF for "none"
  return static_cast<token_id>(*v);
}

void add_unique(std::vector<token_id>& ids, token_id id) {
  if (id != no_token && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
}

void load_merges(const gguf_file& f, vocab& v) {
  const auto merges = f.get_string_array("tokenizer.ggml.merges");
  v.n_merges = merges.size();
  v.merges.reserve(merges.size());
  std::string left, right;
  for (std::size_t r = 0; r < merges.size(); ++r) {
    const std::string_view m = merges[r];
    const std::size_t space = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
    if (space == std::string_view::npos) {
      throw gguf_error(f.name() + ": key 'tokenizer.ggml.merges' element #" + std::to_string(r) +
                       " has no space separating its two parts");
    }
    const bool mapped = unicode_to_bytes(m.substr(0, space), left) && unicode_to_bytes(m.substr(space + 1), right);
    const token_id l = mapped ? v.bytes_to_id.find(left) : no_token;
    const token_id rr = mapped ? v.bytes_to_id.find(right) : no_token;
    if (l != no_token && rr != no_token) {
      const token_id result = v.bytes_to_id.find(left + right);
      v.merges.insert(l, rr, {static_cast<int32_t>(r), result});  // first occurrence wins
    } else if (mapped) {
      v.merge_rank_by_text.emplace(left + ' ' + right, static_cast<int32_t>(r));
    }
  }
}

void load_specials(const gguf_file& f, vocab& v) {
  const std::size_t n = v.size();
  const bool spm = v.model == vocab_model::spm;
  v.bos = optional_id(f, "tokenizer.ggml.bos_token_id", spm ? 1 : 11, n);
  v.eos = optional_id(f, "tokenizer.ggml.eos_token_id", spm ? 2 : 11, n);
  v.eot = optional_id(f, "tokenizer.ggml.eot_token_id", no_token, n);
  v.eom = optional_id(f, "tokenizer.ggml.eom_token_id", no_token, n);
  v.unk = optional_id(f, "tokenizer.ggml.unknown_token_id", spm ? 0 : no_token, n);
  v.pad = optional_id(f, "tokenizer.ggml.padding_token_id", no_token, n);
  v.add_bos = spm || v.pre == pre_type::llama3;
  v.add_eos = false;
  if (const auto b = f.find_bool("tokenizer.ggml.add_bos_token")) v.add_bos = *b;
  if (const auto b = f.find_bool("tokenizer.ggml.add_eos_token")) v.add_eos = *b;
  if (const auto b = f.find_bool("tokenizer.ggml.add_space_prefix")) v.add_space_prefix = *b;
  if (v.add_bos && v.bos == no_token) throw gguf_error(f.name() + ": add_bos_token is set but there is no BOS token");

  for (const auto text : eot_texts) {
    const token_id id = v.text_to_id.find(text);
    if (id == no_token) continue;
    if (v.eot == no_token) v.eot = id;
    v.kinds[id] = token_kind::control;  // the peer promotes these
  }
  add_unique(v.eog, v.eos);
  add_unique(v.eog, v.eot);
  add_unique(v.eog, v.eom);
  for (const auto text : eog_texts) {
    add_unique(v.eog, v.text_to_id.find(text));
  }

  for (token_id id = 0; id < static_cast<token_id>(n); ++id) {
    const token_kind k = v.kinds[id];
    if ((k == token_kind::control || k == token_kind::user_defined || k == token_kind::unknown) && !v.texts[id].empty()) {
      v.special_tokens.push_back(id);
    }
  }
  std::stable_sort(v.special_tokens.begin(), v.special_tokens.end(),
                   [&](token_id a, token_id b) { return v.texts[a].size() > v.texts[b].size(); });
}

uint64_t fingerprint_of(const gguf_file& f, const vocab& v) {
  // Owned: get_string_array below throws on a merges key of another type (found by fuzz_gguf).
  std::unique_ptr<XXH3_state_t, XXH_errorcode (*)(XXH3_state_t*)> state(XXH3_createState(), XXH3_freeState);
  if (!state) throw std::bad_alloc();
  XXH3_state_t* st = state.get();
  XXH3_64bits_reset(st);
  const auto add = [&](std::string_view s) {
    XXH3_64bits_update(st, s.data(), s.size());
    XXH3_64bits_update(st, "\0", 1);
  };
  add("laneway.tokenizer.v1");
  add(v.model_name);
  add(v.pre_name);
  for (std::size_t i = 0; i < v.size(); ++i) {
    add(v.texts[i]);
    const auto kind = static_cast<unsigned char>(v.kinds[i]);
    XXH3_64bits_update(st, &kind, 1);
  }
  if (f.has("tokenizer.ggml.merges")) {
    for (const auto m : f.get_string_array("tokenizer.ggml.merges")) add(m);
  }
  return XXH3_64bits_digest(st);
}

}  // namespace

pre_type pre_type_from_name(std::string_view name, bool& known) {
  known = true;
  if (name.empty()) return pre_type::peer_default;
  for (const auto& row : pre_names)
    if (row.name == name) return row.type;
  known = false;
  return pre_type::gpt2;
}

bool vocab::is_eog(token_id id) const { return std::find(eog.begin(), eog.end(), id) != eog.end(); }

bool vocab::is_control(token_id id) const {
  return id >= 0 && static_cast<std::size_t>(id) < kinds.size() && kinds[id] == token_kind::control;
}

merge_map::value vocab::find_merge(token_id left, std::string_view left_bytes, token_id right,
                                   std::string_view right_bytes) const {
  if (left >= 0 && right >= 0) return merges.find(left, right);
  if (merge_rank_by_text.empty()) return {};
  std::string key;
  key.reserve(left_bytes.size() + 1 + right_bytes.size());
  key.append(left_bytes).append(1, ' ').append(right_bytes);
  const auto it = merge_rank_by_text.find(key);
  if (it == merge_rank_by_text.end()) return {};
  key.erase(left_bytes.size(), 1);
  return {it->second, bytes_to_id.find(key)};
}

vocab load_vocab(const gguf_file& f) {
  vocab v;
  v.model_name = std::string(f.get_string("tokenizer.ggml.model"));
  if (v.model_name == "llama") {
    v.model = vocab_model::spm;
  } else if (v.model_name == "gpt2") {
    v.model = vocab_model::bpe;
  } else {
    throw gguf_error(f.name() + ": key 'tokenizer.ggml.model' = '" + v.model_name +
                     "' is not supported (supported: llama, gpt2)");
  }
  v.pre_name = std::string(f.find_string("tokenizer.ggml.pre").value_or(""));
  bool known = true;
  v.pre = pre_type_from_name(v.pre_name, known);

  const auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  const std::size_t n = tokens.size();
  if (n == 0 || n > static_cast<std::size_t>(INT32_MAX)) {
    throw gguf_error(f.name() + ": key 'tokenizer.ggml.tokens' has " + std::to_string(n) + " tokens");
  }
  v.texts.assign(tokens.begin(), tokens.end());
  v.scores.assign(n, 0.0f);
  if (f.has("tokenizer.ggml.scores")) {
    v.scores = f.get_f32_array("tokenizer.ggml.scores");
    if (v.scores.size() != n) throw gguf_error(f.name() + ": key 'tokenizer.ggml.scores' length differs from tokens");
  }
  v.kinds.assign(n, token_kind::normal);
  if (f.has("tokenizer.ggml.token_type")) {
    const auto types = f.get_int_array("tokenizer.ggml.token_type");
    if (types.size() != n) throw gguf_error(f.name() + ": key 'tokenizer.ggml.token_type' length differs from tokens");
    for (std::size_t i = 0; i < n; ++i) {
      v.kinds[i] = (types[i] >= 0 && types[i] <= 6) ? static_cast<token_kind>(types[i]) : token_kind::undefined;
    }
  }
  v.text_to_id.build(v.texts);

  std::fill(std::begin(v.byte_token), std::end(v.byte_token), no_token);
  if (v.model == vocab_model::bpe) {
    v.bytes_of.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (!unicode_to_bytes(v.texts[i], v.bytes_of[i])) v.bytes_of[i].clear();
    }
    v.bytes_to_id.build(v.bytes_of);
    for (int b = 0; b < 256; ++b) {
      const char c = static_cast<char>(b);
      v.byte_token[b] = v.bytes_to_id.find(std::string_view(&c, 1));
    }
    if (!f.has("tokenizer.ggml.merges")) throw gguf_error(f.name() + ": missing key 'tokenizer.ggml.merges' (gpt2 tokenizer)");
    load_merges(f, v);
    v.ignore_merges = v.pre_name == "llama3" || v.pre_name == "llama-v3" || v.pre_name == "llama-bpe" ||
                      v.pre_name == "falcon3";
  } else {
    v.spm_words_independent = std::none_of(v.texts.begin(), v.texts.end(), [](const std::string& t) {
      for (std::size_t at = t.find("\xE2\x96\x81", 1); at != std::string::npos; at = t.find("\xE2\x96\x81", at + 1)) {
        if (at < 3 || t.compare(at - 3, 3, "\xE2\x96\x81") != 0) return true;
      }
      return false;
    });
    for (int b = 0; b < 256; ++b) {  // SentencePiece byte fallback: <0xXX>, else the byte itself
      char hex[8];
      std::snprintf(hex, sizeof hex, "<0x%02X>", b);
      token_id id = v.text_to_id.find(hex);
      if (id == no_token) {
        const char c = static_cast<char>(b);
        id = v.text_to_id.find(std::string_view(&c, 1));
      }
      v.byte_token[b] = id;
    }
  }
  load_specials(f, v);
  v.fingerprint = fingerprint_of(f, v);
  return v;
}

}  // namespace laneway::engine
