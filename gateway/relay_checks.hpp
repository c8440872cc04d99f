// Checks the relay makes on what a node sends before it reaches the client: where the last whole
// SSE event ends (so a node cut in the middle of an event never leaves half an event at the
// client, in front of the gateway's error event), and whether a buffered JSON answer parses.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace laneway::gateway {

// Length of the longest prefix of `bytes` that ends at an event boundary (a blank line: "\n\n"
// or "\r\n\r\n"); 0 when `bytes` holds no whole event yet.
std::size_t sse_whole_events_length(std::string_view bytes);

// Byte offset of the first JSON syntax error in `body` (trailing bytes included), or nullopt
// when `body` is one valid JSON value.
std::optional<std::size_t> json_error_offset(std::string_view body);

}  // namespace laneway::gateway
