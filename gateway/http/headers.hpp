// Header handling for proxies (RFC 9110 §7.6.1): hop-by-hop fields, including any named in
// Connection, are not forwarded; framing (Content-Length, Transfer-Encoding) is set by the hop
// that writes the message.
#pragma once

#include <boost/beast/http/fields.hpp>

namespace laneway::http {

// Copies the end-to-end fields of `from` into `to` (framing, Host and X-Request-Id excluded:
// each hop sets those itself).
void copy_end_to_end_fields(const boost::beast::http::fields& from, boost::beast::http::fields& to);

}  // namespace laneway::http
