// model_digest_from_models / fetch_server_model_digest (see server_model.hpp).
#include "tools/ladder/server_model.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <nlohmann/json.hpp>

#include "tools/ladder/ladder_connection.hpp"

namespace laneway::ladder {

namespace asio = boost::asio;

std::string model_digest_from_models(const std::string& body, const std::string& model) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("data") || !j["data"].is_array()) return "";
  for (const auto& m : j["data"]) {
    if (!m.is_object() || m.value("id", std::string()) != model) continue;
    for (const char* key : {"sha256", "digest"}) {
      auto it = m.find(key);
      if (it == m.end() || !it->is_string()) continue;
      std::string d = it->get<std::string>();
      if (d.rfind("sha256:", 0) == 0) d.erase(0, 7);
      if (!d.empty()) return d;
    }
  }
  return "";
}

std::string fetch_server_model_digest(const ladder_target& target) {
  asio::io_context io;
  std::string digest;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    ladder_connection conn(co_await asio::this_coro::executor, target);
    std::string detail, body;
    if (!(co_await conn.open(&detail)).empty()) co_return;
    if (co_await conn.get("/v1/models", body) == 200) digest = model_digest_from_models(body, target.model);
  }, asio::detached);
  io.run();
  return digest;
}

}  // namespace laneway::ladder
