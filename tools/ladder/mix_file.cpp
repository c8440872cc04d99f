// parse_mix_toml: top-level name/version/description/filler and an [[entries]] array, read with
// the shared table_reader so unknown keys (typos) are errors too (see mix_file.hpp).
#include "tools/ladder/mix_file.hpp"

#include <fstream>
#include <sstream>

#include "gateway/http/config_reader.hpp"

namespace laneway::ladder {

namespace {

using http::config_error;
using http::table_reader;

bool valid_kind(const std::string& k) {
  if (k.empty() || k.size() > 64) return false;
  for (char c : k)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

void read_messages(const toml::node* node, const std::string& at, const std::string& source, mix_entry& e) {
  const auto* arr = node->as_array();
  if (!arr) throw config_error(source + ": " + at + ": must be an array of { role, content } tables");
  for (std::size_t i = 0; i < arr->size(); ++i) {
    std::string here = at + "[" + std::to_string(i) + "]";
    const auto* t = (*arr)[i].as_table();
    if (!t) throw config_error(source + ": " + here + ": must be a table { role = \"user\", content = \"...\" }");
    table_reader r(*t, here + ".", source);
    mix_message m;
    r.string("role", m.role);
    r.string("content", m.content);
    r.finish();
    if (m.role != "system" && m.role != "user" && m.role != "assistant")
      r.fail("role", "must be system, user or assistant (got '" + m.role + "')");
    if (m.content.empty()) r.fail("content", "must not be empty");
    e.messages.push_back(std::move(m));
  }
}

mix_entry read_entry(const toml::table& t, const std::string& at, const std::string& source) {
  table_reader r(t, at + ".", source);
  mix_entry e;
  r.string("kind", e.kind);
  if (!valid_kind(e.kind)) r.fail("kind", "must be 1-64 characters of a-z, 0-9, _ or - (got '" + e.kind + "')");
  if (!r.find("weight")) r.fail("weight", "is required (a whole number from 1 to 1000)");
  r.integer("weight", 1, 1000, e.weight);
  r.integer("max_tokens", 1, 1 << 20, e.max_tokens);
  if (r.find("stream")) {
    bool s = false;
    r.boolean("stream", s);
    e.stream = s;
  }
  r.integer("generated_chars", 1, 10'000'000, e.generated_chars);
  e.short_prompt = e.generated_chars == 0;
  r.boolean("short_prompt", e.short_prompt);
  r.string("description", e.description);
  if (const auto* m = r.find("messages")) read_messages(m, at + ".messages", source, e);
  r.finish();
  if (e.messages.empty() && e.generated_chars == 0)
    r.fail("messages", "is required unless generated_chars is set (an entry must send something)");
  return e;
}

}  // namespace

prompt_mix parse_mix_toml(const std::string& text, const std::string& source) {
  toml::table root = http::parse_toml(text, source);
  table_reader r(root, "", source);
  prompt_mix mix;
  mix.source = source;
  mix.toml_text = text;
  r.string("name", mix.name);
  if (mix.name.empty()) r.fail("name", "is required (a string such as \"team-mix\")");
  if (!r.find("version")) r.fail("version", "is required (a whole number; bump it when the mix changes)");
  r.integer("version", 1, 1'000'000, mix.version);
  r.string("description", mix.description);
  r.string("filler", mix.filler);
  const auto* entries = r.find("entries");
  if (!entries) r.fail("entries", "is required: at least one [[entries]] table");
  const auto* arr = entries->as_array();
  if (!arr || arr->empty()) r.fail("entries", "must be a non-empty array of tables ([[entries]])");
  int total = 0;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    std::string at = "entries[" + std::to_string(i) + "]";
    const auto* t = (*arr)[i].as_table();
    if (!t) throw config_error(source + ": " + at + ": must be a table ([[entries]])");
    mix.entries.push_back(read_entry(*t, at, source));
    if (mix.entries.back().generated_chars > 0 && mix.filler.empty())
      throw config_error(source + ": " + at + ".generated_chars: needs a non-empty top-level filler to repeat");
    for (std::size_t j = 0; j + 1 < mix.entries.size(); ++j)
      if (mix.entries[j].kind == mix.entries.back().kind)
        throw config_error(source + ": " + at + ".kind: '" + mix.entries.back().kind + "' is already entries[" +
                           std::to_string(j) + "]'s kind");
    total += mix.entries.back().weight;
  }
  r.finish();
  if (total > 10000) r.fail("entries", "weights add up to " + std::to_string(total) + "; at most 10000");
  mix.finalize();
  return mix;
}

prompt_mix load_mix_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error(path + ": cannot open the mix file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_mix_toml(text.str(), path);
}

}  // namespace laneway::ladder
