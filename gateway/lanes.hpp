// Which lane a request belongs to, and the lane table handed to routing's admission controller.
// Order: the API key's lane; an `X-Lane` header when the key allows it (a lane that does not
// exist is a 400); the first lane whose match rules (models, paths) all hold; the fallback lane.
// Without [[lanes]] every request is in one unlimited lane named "default".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/api_keys.hpp"
#include "gateway/config.hpp"
#include "gateway/http/error.hpp"
#include "routing/admission.hpp"

namespace laneway::gateway {

struct lane_request {
  const key_grant* key = nullptr;  // the authenticated key; nullptr when keys are not required
  std::string_view lane_header;    // X-Lane, "" when absent
  std::string_view model;
  std::string_view path;           // without the query string
};

class lane_table {
 public:
  explicit lane_table(const std::vector<lane_config>& lanes);

  // The lane's index in lanes(), or a 400 naming X-Lane.
  http::result<std::size_t> classify(const lane_request& request) const;
  const std::vector<lane_config>& lanes() const { return lanes_; }
  // The same lanes as routing's admission controller takes them.
  std::vector<routing::lane_config> admission_lanes() const;

 private:
  std::optional<std::size_t> find(std::string_view name) const;
  std::vector<lane_config> lanes_;
  std::size_t fallback_ = 0;
};

}  // namespace laneway::gateway
