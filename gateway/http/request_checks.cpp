// Request header checks (see request_checks.hpp). Every failure is a 400 whose message names the
// header; the server closes the connection after it, since the framing of what follows is unknown.
#include "gateway/http/request_checks.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

namespace laneway::http {

namespace bhttp = boost::beast::http;

namespace {

error bad_framing(std::string message) { return make_error(error_kind::bad_request, std::move(message)); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::size_t header_end(std::string_view bytes) {
  auto at = bytes.find("\r\n\r\n");
  return at == std::string_view::npos ? 0 : at + 4;
}

std::optional<error> check_header_bytes(std::string_view raw) {
  // A line that starts with SP or HTAB continues the previous field (obs-fold). The last two
  // bytes are the empty line's CRLF, which nothing follows.
  for (auto at = raw.find("\r\n"); at != std::string_view::npos && at + 2 < raw.size(); at = raw.find("\r\n", at + 2)) {
    char next = raw[at + 2];
    if (next == ' ' || next == '\t')
      return bad_framing("malformed HTTP request: a header field is folded onto the next line (obs-fold)");
  }
  return std::nullopt;
}

std::optional<error> check_request_header(const bhttp::request_header<>& header) {
  std::size_t lengths = 0, encodings = 0, hosts = 0;
  std::string_view encoding;
  for (const auto& field : header) {
    switch (field.name()) {
      case bhttp::field::content_length:
        ++lengths;
        if (field.value().find(',') != std::string_view::npos)
          return bad_framing("malformed HTTP request: Content-Length must be one number");
        break;
      case bhttp::field::transfer_encoding:
        ++encodings;
        encoding = field.value();
        break;
      case bhttp::field::host: ++hosts; break;
      default: break;
    }
  }
  if (lengths > 1) return bad_framing("malformed HTTP request: more than one Content-Length header");
  if (encodings > 0) {
    if (header.version() < 11)
      return bad_framing("malformed HTTP request: Transfer-Encoding is not allowed in an HTTP/1.0 request");
    // Only `chunked` is understood; anything else leaves the body's length unknown.
    if (encodings > 1 || !boost::beast::iequals(trim(encoding), "chunked"))
      return bad_framing("malformed HTTP request: Transfer-Encoding must be exactly \"chunked\"");
  }
  if (header.version() >= 11 && hosts != 1)
    return bad_framing(hosts == 0 ? "malformed HTTP request: an HTTP/1.1 request needs a Host header"
                                  : "malformed HTTP request: more than one Host header");
  return std::nullopt;
}

std::optional<error> parse_checked_header(bhttp::request_parser<bhttp::string_body>& parser, std::string_view raw,
                                          std::size_t& used) {
  used = 0;
  if (auto bad = check_header_bytes(raw)) return bad;
  boost::beast::error_code ec;
  used = parser.put(boost::asio::buffer(raw.data(), raw.size()), ec);
  if (ec == bhttp::error::need_more || (!ec && !parser.is_header_done()))
    return bad_framing("malformed HTTP request: incomplete header");
  if (ec) {
    if (auto err = read_failure(ec)) return err;
    return bad_framing("malformed HTTP request: " + ec.message());
  }
  return check_request_header(parser.get().base());
}

std::optional<error> read_failure(const boost::beast::error_code& ec) {
  namespace asio = boost::asio;
  if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::operation_aborted ||
      ec == asio::error::connection_reset || ec == asio::error::broken_pipe)
    return std::nullopt;
  if (ec == bhttp::error::header_limit)
    return make_error(error_kind::headers_too_large, "request header fields too large");
  if (ec == bhttp::error::body_limit)
    return make_error(error_kind::payload_too_large, "request body too large");
  if (ec == boost::beast::error::timeout)
    return make_error(error_kind::request_timeout, "the request was not received in time");
  if (ec == bhttp::error::partial_message) return std::nullopt;
  // A TLS client that left without close_notify, or a broken TLS record: nothing to answer on.
  if (ec == asio::ssl::error::stream_truncated || ec.category() == asio::error::get_ssl_category()) return std::nullopt;
  return bad_framing("malformed HTTP request: " + ec.message());
}

}  // namespace laneway::http
