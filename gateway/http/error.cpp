// Mapping of error kinds to HTTP status, OpenAI error type/code and metrics label.
#include "gateway/http/error.hpp"

#include <nlohmann/json.hpp>

namespace laneway::http {

namespace {

struct kind_info {
  unsigned status;
  error_source source;
  std::string_view type;
  std::string_view code;
};

kind_info info(error_kind kind) {
  using k = error_kind;
  using s = error_source;
  switch (kind) {
    case k::bad_request: return {400, s::client, "invalid_request_error", "invalid_request"};
    case k::not_found: return {404, s::client, "invalid_request_error", "not_found"};
    case k::method_not_allowed: return {405, s::client, "invalid_request_error", "method_not_allowed"};
    case k::model_not_found: return {404, s::client, "invalid_request_error", "model_not_found"};
    case k::payload_too_large: return {413, s::client, "invalid_request_error", "payload_too_large"};
    case k::headers_too_large: return {431, s::client, "invalid_request_error", "headers_too_large"};
    case k::request_timeout: return {408, s::client, "invalid_request_error", "request_timeout"};
    case k::too_many_connections: return {503, s::internal, "server_error", "too_many_connections"};
    case k::no_healthy_node: return {503, s::internal, "server_error", "no_healthy_node"};
    case k::upstream_connect: return {502, s::upstream, "server_error", "upstream_connect_failed"};
    case k::upstream_reset: return {502, s::upstream, "server_error", "upstream_reset"};
    case k::upstream_bad_response: return {502, s::upstream, "server_error", "upstream_bad_response"};
    case k::upstream_timeout: return {504, s::upstream, "server_error", "upstream_timeout"};
    case k::shutting_down: return {503, s::internal, "server_error", "shutting_down"};
    case k::context_length_exceeded: return {400, s::client, "invalid_request_error", "context_length_exceeded"};
    case k::overloaded: return {429, s::internal, "rate_limit_error", "overloaded"};
    case k::generation_timeout: return {504, s::internal, "server_error", "generation_timeout"};
    case k::unauthorized: return {401, s::client, "invalid_request_error", "invalid_api_key"};
    case k::rate_limited: return {429, s::client, "rate_limit_error", "rate_limit_exceeded"};
    case k::queue_full: return {429, s::internal, "rate_limit_error", "queue_full"};
    case k::queue_timeout: return {503, s::internal, "server_error", "queue_timeout"};
    case k::shed: return {503, s::internal, "server_error", "shed"};
    case k::internal: return {500, s::internal, "server_error", "internal_error"};
  }
  return {500, s::internal, "server_error", "internal_error"};
}

}  // namespace

error_source error::source() const { return info(kind).source; }
unsigned error::status() const { return info(kind).status; }
std::string_view error::openai_type() const { return info(kind).type; }
std::string_view error::code() const { return info(kind).code; }

std::string error::body() const {
  nlohmann::json j;
  j["error"] = {
      {"message", message},
      {"type", openai_type()},
      {"param", param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param)},
      {"code", code()},
  };
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

error make_error(error_kind kind, std::string message, std::string param) {
  error e;
  e.kind = kind;
  e.message = std::move(message);
  e.param = std::move(param);
  e.retryable = kind == error_kind::upstream_connect || kind == error_kind::upstream_reset ||
                kind == error_kind::upstream_bad_response;
  return e;
}

std::string_view to_string(error_source source) {
  switch (source) {
    case error_source::client: return "client";
    case error_source::upstream: return "upstream";
    case error_source::internal: return "internal";
  }
  return "internal";
}

}  // namespace laneway::http
