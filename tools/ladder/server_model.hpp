// The model digest a server reports about itself, when it reports one: `GET /v1/models` and the
// served model's `sha256` or `digest` field (Ollama-style "sha256:..." prefixes are dropped).
// laneway's worker and most OpenAI-compatible servers report none; --model-file is the stamp
// that always works.
#pragma once

#include <string>

#include "tools/ladder/ladder_client.hpp"

namespace laneway::ladder {

// The digest of `model` in a /v1/models body, "" when there is none (pure; unit-tested).
std::string model_digest_from_models(const std::string& body, const std::string& model);

// Fetches /v1/models once (bounded by the target's connect and request timeouts); "" on any failure.
std::string fetch_server_model_digest(const ladder_target& target);

}  // namespace laneway::ladder
