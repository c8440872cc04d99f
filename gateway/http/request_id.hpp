// Request ids: a client's X-Request-Id is kept when it is 1-128 chars of [A-Za-z0-9._:-];
// otherwise the gateway makes a new one (UUID v4). The same id travels to every hop.
#pragma once

#include <string>
#include <string_view>

namespace laneway::http {

bool valid_request_id(std::string_view id);
std::string new_request_id();
// The client's id when valid, else a new one.
std::string accept_request_id(std::string_view client_id);

}  // namespace laneway::http
