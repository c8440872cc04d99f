// Reading and checking the [[lanes]] and [[keys]] tables of the gateway config (config_lanes.cpp).
// Private to the config code: it exposes toml++ types, which the rest of the gateway never sees.
#pragma once

#include <string>

#include "gateway/config.hpp"
#include "gateway/http/config_reader.hpp"

namespace laneway::gateway {

// Reads `lanes` and `keys` from the file's root table into `config` (each entry's keys checked).
void read_lanes_and_keys(const toml::table& root, const std::string& source, gateway_config& config);
// Cross-field rules: unique lane and key names, unique key hashes, keys naming existing lanes.
void validate_lanes(const gateway_config& config, const std::string& source);

// The lane a request falls into when no key, header or match rule names one: the lane called
// "default" if there is one, else the last lane without match rules, else the last lane.
std::size_t fallback_lane(const std::vector<lane_config>& lanes);

}  // namespace laneway::gateway
