// Complete responses (see responses.hpp).
#include "gateway/http/responses.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "gateway/http/server.hpp"

namespace laneway::http {

namespace bhttp = beast::http;

namespace {

asio::awaitable<beast::error_code> send(client_stream& stream, unsigned status, std::string body,
                                        std::string_view content_type, std::string_view request_id, bool keep_alive,
                                        unsigned retry_after_s = 0) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
  if (retry_after_s > 0) res.set(bhttp::field::retry_after, std::to_string(retry_after_s));
  res.set(bhttp::field::content_type, content_type);
  res.set("X-Request-Id", request_id);
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  auto [ec, n] = co_await bhttp::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
  co_return ec;
}

}  // namespace

asio::awaitable<beast::error_code> write_body(exchange& ex, unsigned status, std::string body, std::string_view content_type) {
  if (ex.draining()) ex.keep_alive = false;
  auto ec = co_await send(ex.stream, status, std::move(body), content_type, ex.request_id, ex.keep_alive);
  if (ec) ex.keep_alive = false;
  co_return ec;
}

asio::awaitable<beast::error_code> write_json(exchange& ex, unsigned status, std::string body) {
  co_return co_await write_body(ex, status, std::move(body), "application/json");
}

asio::awaitable<beast::error_code> write_error(exchange& ex, const error& err) {
  if (err.retry_after_s == 0) co_return co_await write_json(ex, err.status(), err.body());
  if (ex.draining()) ex.keep_alive = false;
  auto ec = co_await send(ex.stream, err.status(), err.body(), "application/json", ex.request_id, ex.keep_alive,
                          err.retry_after_s);
  if (ec) ex.keep_alive = false;
  co_return ec;
}

asio::awaitable<beast::error_code> write_error_to(client_stream& stream, const error& err,
                                                  std::string_view request_id, bool keep_alive) {
  co_return co_await send(stream, err.status(), err.body(), "application/json", request_id, keep_alive);
}

std::string sse_error_event(const error& err) { return "event: error\ndata: " + err.body() + "\n\n"; }

}  // namespace laneway::http
