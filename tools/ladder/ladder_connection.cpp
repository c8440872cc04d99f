// ladder_connection (see ladder_connection.hpp). Each exchange has one deadline for the whole
// request and response, set on the TCP layer so it also bounds TLS reads and writes. A TLS
// connection is closed without close_notify: waiting for the peer's would add a round trip the
// server's clients do not pay either.
#include "tools/ladder/ladder_connection.hpp"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

#include "gateway/upstream_client.hpp"
#include "tools/ladder/target_url.hpp"

namespace laneway::ladder {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

double seconds(ladder_clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string io_error_class(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return "timeout";
  return "reset";  // closed, reset or broken mid-exchange
}

void read_usage(const std::string& body, request_sample& s) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    s.error_class = "bad_response";
    s.error_detail = "the response body is not a JSON object";
    return;
  }
  if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
    s.prompt_tokens = u->value("prompt_tokens", 0L);
    s.completion_tokens = u->value("completion_tokens", 0L);
  }
}

template <typename Stream>
asio::awaitable<bool> exchange_on(Stream& stream, beast::flat_buffer& buffer, const ladder_target& t,
                                  const std::string& body, bool streamed, bool keep_alive, request_sample& s) {
  auto start = ladder_clock::now();
  auto& tcp = beast::get_lowest_layer(stream);
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, t.url.prefix + "/v1/chat/completions", 11};
  req.set(bhttp::field::host, t.url.host_header());
  req.set(bhttp::field::user_agent, "laneway-ladder");
  req.set(bhttp::field::content_type, "application/json");
  req.set(bhttp::field::accept, streamed ? "text/event-stream" : "application/json");
  if (!t.key.empty()) req.set(bhttp::field::authorization, "Bearer " + t.key);
  req.keep_alive(keep_alive);
  req.body() = body;
  req.prepare_payload();
  tcp.expires_after(t.request_timeout);
  auto finish = [&](std::string error_class, const beast::error_code& ec = {}) {
    s.e2e_s = seconds(ladder_clock::now() - start);
    if (s.error_class.empty()) {
      s.error_class = std::move(error_class);
      if (ec && s.error_detail.empty()) s.error_detail = ec.message();
    }
  };
  if (auto [ec, n] = co_await bhttp::async_write(stream, req, use_tuple); ec) {
    finish(io_error_class(ec), ec);
    co_return false;
  }
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple); ec) {
    finish(ec == bhttp::error::end_of_stream ? "reset" : io_error_class(ec), ec);
    co_return false;
  }
  s.status = static_cast<int>(parser.get().result_int());
  bool ok_status = s.status >= 200 && s.status < 300;
  bool sse = ok_status && streamed;
  sse_meter meter(start);
  std::string whole;  // non-stream body, or an error body (kept short)
  char chunk[16384];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      finish(io_error_class(ec), ec);
      co_return false;
    }
    std::size_t got = sizeof chunk - parser.get().body().size;
    if (sse) {
      std::string why;
      if (!meter.feed(chunk, got, ladder_clock::now(), &why) && s.error_class.empty()) {
        s.error_class = "bad_response";
        s.error_detail = why;
      }
    } else if (whole.size() < 16 * 1024 * 1024) {
      whole.append(chunk, got);
    }
  }
  tcp.expires_never();
  if (!ok_status) {
    s.error_detail = whole.substr(0, 200);
    finish(s.status >= 500 ? "5xx" : s.status >= 400 ? "4xx" : "bad_response");
  } else if (sse) {
    s.ttft_s = meter.ttft_s();
    s.gaps_s = meter.gaps_s();
    s.chunks = meter.content_chunks();
    s.prompt_tokens = meter.prompt_tokens();
    s.completion_tokens = meter.completion_tokens();
    if (!meter.done() && s.error_detail.empty()) s.error_detail = "the stream ended without data: [DONE]";
    finish(meter.done() ? "" : "bad_response");
  } else {
    read_usage(whole, s);
    s.ttft_s = seconds(ladder_clock::now() - start);  // no stream: the first token comes with the body
    finish("");
  }
  co_return keep_alive && parser.get().keep_alive();
}

// GET `path` within the request timeout; the status and at most 1 MiB of body, or status 0.
template <typename Stream>
asio::awaitable<int> get_on(Stream& stream, beast::flat_buffer& buffer, const ladder_target& t, const std::string& path,
                            std::string& body) {
  auto& tcp = beast::get_lowest_layer(stream);
  bhttp::request<bhttp::string_body> req{bhttp::verb::get, t.url.prefix + path, 11};
  req.set(bhttp::field::host, t.url.host_header());
  req.set(bhttp::field::user_agent, "laneway-ladder");
  if (!t.key.empty()) req.set(bhttp::field::authorization, "Bearer " + t.key);
  tcp.expires_after(t.request_timeout);
  if (auto [ec, n] = co_await bhttp::async_write(stream, req, use_tuple); ec) co_return 0;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1 << 20);
  if (auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, use_tuple); ec) co_return 0;
  tcp.expires_never();
  body = std::move(parser.get().body());
  co_return static_cast<int>(parser.get().result_int());
}

}  // namespace

asio::awaitable<std::string> ladder_connection::open(std::string* detail) {
  close();
  auto start = ladder_clock::now();
  buffer_.clear();
  beast::tcp_stream* tcp = nullptr;
  if (target_.tls) {
    tls_.emplace(ex_, *target_.tls);
    tcp = &beast::get_lowest_layer(*tls_);
  } else {
    plain_.emplace(ex_);
    tcp = &*plain_;
  }
  if (auto connected = co_await gateway::connect_tcp(*tcp, target_.url, target_.connect_timeout); !connected) {
    if (detail) *detail = connected.err().message;
    close();
    co_return "connect";
  }
  if (tls_) {
    const std::string& host = target_.url.host;
    // SNI carries names only (RFC 6066), never an address literal.
    if (!is_ip_literal(host)) SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str());
    if (target_.verify_host) tls_->set_verify_callback(ssl::host_name_verification(host));
    tcp->expires_after(target_.connect_timeout);
    auto [ec] = co_await tls_->async_handshake(ssl::stream_base::client, use_tuple);
    tcp->expires_never();
    if (ec) {
      if (detail) {
        *detail = "TLS handshake: " + ec.message();
        long verify = SSL_get_verify_result(tls_->native_handle());
        if (verify != X509_V_OK) *detail += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
      }
      close();
      co_return ec == beast::error::timeout ? "timeout" : "tls";
    }
  }
  open_ = true;
  setup_s_ = seconds(ladder_clock::now() - start);
  co_return "";
}

// A peek without blocking: an orderly close (0) or bytes nobody asked for (a TLS alert, a stray
// response) both mean the connection is out of step.
bool ladder_connection::dead() {
  if (!open_) return true;
  auto& socket = (tls_ ? beast::get_lowest_layer(*tls_) : *plain_).socket();
  if (!socket.is_open()) return true;
  char byte;
  ssize_t r = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (r >= 0) return true;
  return !(errno == EAGAIN || errno == EWOULDBLOCK);
}

void ladder_connection::close() {
  beast::error_code ignored;
  if (tls_) {
    beast::get_lowest_layer(*tls_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(*tls_).socket().close(ignored);
    tls_.reset();
  }
  if (plain_) {
    plain_->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    plain_->socket().close(ignored);
    plain_.reset();
  }
  open_ = false;
}

asio::awaitable<bool> ladder_connection::exchange(const std::string& body, bool stream, bool keep_alive,
                                                  request_sample& s) {
  bool reusable = tls_ ? co_await exchange_on(*tls_, buffer_, target_, body, stream, keep_alive, s)
                       : co_await exchange_on(*plain_, buffer_, target_, body, stream, keep_alive, s);
  if (!reusable) close();
  co_return reusable;
}

asio::awaitable<int> ladder_connection::get(const std::string& path, std::string& body) {
  int status = tls_ ? co_await get_on(*tls_, buffer_, target_, path, body)
                    : co_await get_on(*plain_, buffer_, target_, path, body);
  close();
  co_return status;
}

}  // namespace laneway::ladder
