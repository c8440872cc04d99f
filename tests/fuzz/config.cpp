// TOML config text through both loaders: the gateway's (parse_config + validate, which also
// reads lanes, keys and nodes) and the worker's (parse_worker_config + validate). A bad file
// must be a config_error or toml parse error naming the key or position, never a crash.
#include <exception>
#include <string>

#include "backends/worker/worker_config.hpp"
#include "gateway/config.hpp"
#include "tests/fuzz/fuzz_target.hpp"

namespace laneway::fuzz {

int fuzz_config(const std::uint8_t* data, std::size_t size) {
  const std::string text(as_text(data, size));
  try {
    auto c = gateway::parse_config(text, "fuzz.toml");
    gateway::validate(c, "fuzz.toml");
  } catch (const std::exception&) {
  }
  try {
    auto c = worker::parse_worker_config(text, "fuzz.toml");
    worker::validate(c, "fuzz.toml");
  } catch (const std::exception&) {
  }
  return 0;
}

}  // namespace laneway::fuzz
