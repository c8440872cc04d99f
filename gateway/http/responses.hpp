// Writing complete responses: JSON bodies, OpenAI-style errors, plain text; and the SSE error
// event that ends a stream when a failure happens after bytes reached the client. Every response
// carries X-Request-Id.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <string>
#include <string_view>

#include "gateway/http/client_stream.hpp"
#include "gateway/http/error.hpp"

namespace laneway::http {

struct exchange;

boost::asio::awaitable<boost::beast::error_code> write_body(exchange& ex, unsigned status, std::string body,
                                                            std::string_view content_type);
boost::asio::awaitable<boost::beast::error_code> write_json(exchange& ex, unsigned status, std::string body);
boost::asio::awaitable<boost::beast::error_code> write_error(exchange& ex, const error& err);
// For answers before an exchange exists (limits, refusals).
boost::asio::awaitable<boost::beast::error_code> write_error_to(client_stream& stream, const error& err,
                                                                std::string_view request_id, bool keep_alive);

// "event: error\ndata: {...}\n\n"
std::string sse_error_event(const error& err);

}  // namespace laneway::http
