// SHA-256 digests (OpenSSL EVP) that stamp a ladder report: the model file, the server config
// and the prompt mix, so two reports say whether they measured the same thing.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace laneway::ladder {

std::string sha256_hex(std::string_view data);
// Streams the file (model files are gigabytes); nullopt and `why` ("PATH: cannot open ...").
std::optional<std::string> sha256_file(const std::string& path, std::string* why);

}  // namespace laneway::ladder
