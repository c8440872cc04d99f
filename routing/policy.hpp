// Routing policies: given the nodes that may take a request (healthy, serving the model, not yet
// tried for it), pick one. Policies are small types behind one interface, created by name from
// config; name() is the `policy` label on routing metrics. The KV-aware policy comes later and
// plugs in here with more fields in `candidate`.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace laneway::routing {

struct candidate {
  std::size_t node_index = 0;  // the caller's index; returned choices refer to positions in the span
  std::string_view name;
  int in_flight = 0;           // requests the gateway has open on this node
};

struct route_request {
  std::string_view model;
};

class policy {
 public:
  virtual ~policy() = default;
  virtual std::string_view name() const = 0;
  // Position in `candidates` of the chosen node; nullopt only when `candidates` is empty.
  virtual std::optional<std::size_t> pick(std::span<const candidate> candidates, const route_request& request) = 0;
};

// nullptr for an unknown name; policy_names() lists the known ones.
std::unique_ptr<policy> make_policy(std::string_view name);
std::vector<std::string> policy_names();

}  // namespace laneway::routing
