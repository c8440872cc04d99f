// Reads the node's `usage` from a response as it is relayed, without buffering it: keeps the
// last bytes of the body (usage comes last: in the JSON object of a plain response, in the
// final chunk before `data: [DONE]` of a stream with include_usage) and, at the end, parses the
// last "usage" object found there. Gives predicted-vs-actual cached tokens and corrects the
// lanes' token buckets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace laneway::gateway {

struct usage_info {
  std::int64_t prompt_tokens = -1;
  std::int64_t completion_tokens = -1;
  std::int64_t cached_tokens = -1;  // usage.prompt_tokens_details.cached_tokens; -1 absent
};

class usage_scanner {
 public:
  explicit usage_scanner(std::size_t keep_bytes = 8192) : keep_(keep_bytes) {}
  void feed(std::string_view piece);
  // The last complete usage object in the kept tail; nullopt when there is none.
  std::optional<usage_info> result() const;

 private:
  std::size_t keep_;
  std::string tail_;
};

}  // namespace laneway::gateway
