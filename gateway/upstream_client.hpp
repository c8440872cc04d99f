// Talking to a node at the TCP/HTTP level: connect with a deadline (resolving names when the
// node is not an IP literal, the resolution inside the same deadline), then the TLS handshake for
// a https node, and a small GET used by health probes, load polls and model discovery. The TCP
// connect is also what `laneway ladder` opens its connections with.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <string>

#include "gateway/http/error.hpp"
#include "gateway/upstream_stream.hpp"
#include "gateway/url.hpp"

namespace laneway::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;

class upstream_tls;

// Connects `stream` (closed on entry) to the URL's host and port within `timeout`, name
// resolution included (a DNS server that does not answer ends it at the deadline too); sets
// TCP_NODELAY.
// Errors: upstream_connect ("cannot resolve ...", "resolving ... timed out", "connect to ...").
asio::awaitable<http::result<bool>> connect_tcp(beast::tcp_stream& stream, const node_url& url,
                                                std::chrono::milliseconds timeout);

// Connects `stream` (closed on entry) to the node (connect_tcp). With `tls` (a https node) the
// handshake follows, within its own `timeout`, offering the node's kept session. The value:
// whether the TLS session was resumed (false for plain TCP). Errors: upstream_connect.
asio::awaitable<http::result<bool>> connect_node(upstream_stream& stream, const node_url& url, const upstream_tls* tls,
                                                 std::chrono::milliseconds timeout);

using string_response = beast::http::response<beast::http::string_body>;

// GET `path` on an open keep-alive connection, the whole exchange within `timeout`, body at
// most `max_body` bytes. On error the connection must be closed by the caller.
asio::awaitable<http::result<string_response>> get_on(upstream_stream& stream, beast::flat_buffer& buffer,
                                                      const node_url& url, const std::string& path,
                                                      std::chrono::milliseconds timeout, std::size_t max_body);

// True when a pooled connection's peer has closed it or sent unexpected bytes (checked without
// blocking, before a connection is reused).
bool connection_dead(upstream_stream& stream);

}  // namespace laneway::gateway
