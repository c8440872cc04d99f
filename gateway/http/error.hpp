// One error type for expected failures on the request path (bad input, upstream down, limits).
// It carries kind, source and whether a retry on another node is safe, and maps to the HTTP
// status, the OpenAI-style JSON error body and a metrics label. Modelled on Pingora's Error.
#pragma once

#include <string>
#include <string_view>

namespace laneway::http {

enum class error_kind {
  bad_request,          // malformed JSON, wrong field type
  not_found,            // unknown route
  method_not_allowed,
  model_not_found,
  payload_too_large,
  headers_too_large,
  request_timeout,      // client too slow sending the request
  too_many_connections,
  no_healthy_node,
  upstream_connect,     // could not connect to any node
  upstream_reset,       // node closed or reset the connection
  upstream_bad_response,
  upstream_timeout,
  shutting_down,
  context_length_exceeded,  // prompt (+ max_tokens) longer than the model or KV pool can hold
  overloaded,               // a node's own waiting queue is full (429; retry later or elsewhere)
  generation_timeout,       // a generation ran past the node's request timeout
  unauthorized,             // missing or unknown API key (401)
  rate_limited,             // a lane's or tenant's request/token rate limit (429 + Retry-After)
  queue_full,               // a lane's waiting queue is at its bound (429 + Retry-After)
  queue_timeout,            // waited in a lane's queue past its queue_timeout (503)
  shed,                     // a sheddable lane refused under saturation (503)
  internal,
};

enum class error_source { client, upstream, internal };

struct error {
  error_kind kind = error_kind::internal;
  std::string message;
  std::string param;       // the offending field, when there is one (OpenAI "param")
  bool retryable = false;  // safe to try another node (nothing sent to the client yet)
  unsigned retry_after_s = 0;  // > 0: sent as a Retry-After header with the error response

  error_source source() const;
  unsigned status() const;               // HTTP status code
  std::string_view openai_type() const;  // OpenAI "type"
  std::string_view code() const;         // OpenAI "code" and the metrics label
  std::string body() const;              // {"error":{"message","type","param","code"}}
};

error make_error(error_kind kind, std::string message, std::string param = {});

std::string_view to_string(error_source source);

}  // namespace laneway::http

#include <utility>
#include <variant>

namespace laneway::http {

// A value or an error: how the request path returns expected failures.
template <typename T>
class result {
 public:
  result(T value) : v_(std::move(value)) {}
  result(error err) : v_(std::move(err)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const error& err() const { return std::get<1>(v_); }

 private:
  std::variant<T, error> v_;
};

}  // namespace laneway::http
