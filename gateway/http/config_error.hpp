// The start-up error of a bad configuration (file or flags): its message names the file, the key
// and what is wrong. Kept apart from config_reader.hpp so headers need not pull in toml++.
#pragma once

#include <stdexcept>

namespace laneway::http {

struct config_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace laneway::http
