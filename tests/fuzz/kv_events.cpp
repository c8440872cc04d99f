// A laneway worker's KV event stream as the gateway reads it: SSE framing over arbitrary splits
// of the bytes (the first byte sets the split size), then each event applied to a router's
// precise prefix index. Anything malformed is `bad` or `ignored`; a router stays consistent.
#include <algorithm>
#include <string>

#include "gateway/kv_events_client.hpp"
#include "gateway/router.hpp"
#include "tests/fuzz/fuzz_target.hpp"

namespace laneway::fuzz {

int fuzz_kv_events(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t split = 1 + data[0] % 64;
  std::string_view bytes = as_text(data + 1, size - 1);
  gateway::routing_config rc;
  rc.policy = "kv_aware";
  gateway::router routes(rc);
  auto node = routes.id_of("w0");
  std::string buffer;
  for (std::size_t at = 0; at < bytes.size(); at += split) {
    buffer.append(bytes.substr(at, split));
    for (const auto& ev : gateway::take_sse_events(buffer)) {
      auto got = gateway::apply_kv_event(ev, routes, node);
      if (got == gateway::kv_apply::gap || got == gateway::kv_apply::bad) routes.drop(node);
      if (got == gateway::kv_apply::snapshot) LANEWAY_FUZZ_CHECK(routes.kv_synced(node));
    }
  }
  if (!routes.kv_synced(node)) LANEWAY_FUZZ_CHECK(routes.indexed_blocks(node) == 0);
  return 0;
}

}  // namespace laneway::fuzz
