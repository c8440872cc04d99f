// Reading a prompt mix from TOML (`laneway ladder --mix FILE.toml`); the schema is in
// docs/ladder.md. Every error is an http::config_error naming the file and the key
// ("mix.toml: entries[2].weight: must be between 1 and 1000 (got 0)").
#pragma once

#include <string>

#include "tools/ladder/prompt_mix.hpp"

namespace laneway::ladder {

// `source` names the text in messages and becomes prompt_mix::source. Throws http::config_error.
prompt_mix parse_mix_toml(const std::string& text, const std::string& source);
prompt_mix load_mix_file(const std::string& path);

}  // namespace laneway::ladder
