// Checks on a request header that Beast's parser accepts but a server in front of other servers
// must refuse: framing that two HTTP implementations could read differently (request smuggling:
// Transfer-Encoding other than a lone final `chunked`, repeated Content-Length, TE on HTTP/1.0),
// obs-fold line continuations, and a missing or repeated Host (RFC 9112 §3.2, §6.1, §6.3).
// Beast itself already refuses Content-Length together with chunked, differing or non-numeric
// lengths, bad chunk sizes and invalid header names or values (see docs/hardening.md).
#pragma once

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <optional>
#include <string_view>

#include "gateway/http/error.hpp"

namespace laneway::http {

// `raw` holds the request line and header fields up to and including the empty line.
// An error when a field line is continued on the next line (obs-fold).
std::optional<error> check_header_bytes(std::string_view raw);

// An error (400 bad_request) naming what is wrong with the parsed header's framing or Host.
std::optional<error> check_request_header(const boost::beast::http::request_header<>& header);

// Where the header ends: the offset just past the first "\r\n\r\n" in `bytes`, or 0 when the
// header is not complete yet.
std::size_t header_end(std::string_view bytes);

// Feeds a complete raw header (header_end bytes) to `parser`: check_header_bytes, Beast's own
// parse, then check_request_header. `used` is how many bytes the parser consumed.
std::optional<error> parse_checked_header(boost::beast::http::request_parser<boost::beast::http::string_body>& parser,
                                          std::string_view raw, std::size_t& used);

// Maps a failure while reading a request to what the client is told (nullopt: just close, as
// for a client that left or a broken TLS record).
std::optional<error> read_failure(const boost::beast::error_code& ec);

}  // namespace laneway::http
