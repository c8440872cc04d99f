// One client connection of `laneway ladder`: plain TCP or TLS (Beast ssl_stream, SNI, host
// name verification), and one measured chat-completion exchange on it. Included only by the
// ladder's .cpp files that drive connections (the closed-loop client, the transport A/B).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <optional>
#include <string>

#include "tools/ladder/ladder_client.hpp"

namespace laneway::ladder {

class ladder_connection {
 public:
  ladder_connection(boost::asio::any_io_executor ex, const ladder_target& target) : ex_(ex), target_(target) {}

  // Connects and, for https, handshakes. Returns "" or the error class ("connect", "tls") with
  // the reason in `detail`; setup_s() is the time it took.
  boost::asio::awaitable<std::string> open(std::string* detail);
  bool is_open() const { return open_; }
  bool dead();  // peer closed or out of step since the last exchange
  void close();
  double setup_s() const { return setup_s_; }

  // One POST /v1/chat/completions; fills `s` (status, error class, TTFT, gaps, usage, e2e).
  // keep_alive false sends Connection: close. Returns whether the connection can be reused.
  boost::asio::awaitable<bool> exchange(const std::string& body, bool stream, bool keep_alive, request_sample& s);
  // GET `path` (at most 1 MiB of body), then closes the connection. Returns the status, 0 on failure.
  boost::asio::awaitable<int> get(const std::string& path, std::string& body);

 private:
  boost::asio::any_io_executor ex_;
  const ladder_target& target_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::tcp_stream> plain_;
  std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls_;
  bool open_ = false;
  double setup_s_ = 0;
};

}  // namespace laneway::ladder
