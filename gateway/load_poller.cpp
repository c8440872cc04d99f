// Load polling by node kind and the tokenizer fetch (see load_poller.hpp).
#include "gateway/load_poller.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "gateway/http/log.hpp"

namespace laneway::gateway {

namespace asio = boost::asio;

load_poller::load_poller(node& target, millis interval, millis timeout, asio::io_context& ioc, router& routes,
                         tokenizer_cache& tokenizers, gateway_metrics& metrics)
    : node_(target),
      interval_(interval),
      timeout_(timeout),
      ioc_(ioc),
      router_(routes),
      tokenizers_(tokenizers),
      metrics_(metrics),
      timer_(ioc),
      stream_(ioc) {}

void load_poller::start() {
  if (node_.kind() == node_kind::openai) return;  // a generic server: only what the gateway sees
  asio::co_spawn(ioc_, run(), asio::detached);
}

void load_poller::stop() {
  stopped_ = true;
  asio::post(ioc_, [this] {
    timer_.cancel();
    close_connection();
  });
}

void load_poller::close_connection() {
  boost::beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
  buffer_.clear();
  connected_ = false;
}

asio::awaitable<http::result<string_response>> load_poller::get(const std::string& path, millis timeout,
                                                                std::size_t max_body) {
  if (!connected_ || connection_dead(stream_)) {
    close_connection();
    auto c = co_await connect_node(stream_, node_.config().url, node_.tls(), timeout_);
    if (!c) co_return c.err();
    connected_ = true;
  }
  auto res = co_await get_on(stream_, buffer_, node_.config().url, path, timeout, max_body);
  if (!res) {
    close_connection();
    co_return res;
  }
  if (!res->keep_alive()) close_connection();
  if (res->result_int() != 200)
    co_return http::make_error(http::error_kind::upstream_bad_response,
                               "GET " + path + " answered " + std::to_string(res->result_int()));
  co_return res;
}

asio::awaitable<http::result<bool>> load_poller::poll(node_report& report) {
  constexpr std::size_t max_body = 4 * 1024 * 1024;
  switch (node_.kind()) {
    case node_kind::laneway: {
      auto res = co_await get("/load", timeout_, max_body);
      if (!res) co_return res.err();
      co_return read_laneway_load(res->body(), report);
    }
    case node_kind::llamacpp: {
      auto res = co_await get("/metrics", timeout_, max_body);
      if (!res) co_return res.err();
      auto ok = read_llamacpp_metrics(res->body(), report);
      if (!ok) co_return ok;
      // /slots is off unless the server runs with --slots; without it the metrics suffice.
      auto slots = co_await get("/slots", timeout_, max_body);
      if (slots) read_llamacpp_slots(slots->body(), report);
      co_return true;
    }
    case node_kind::vllm: {
      auto res = co_await get("/metrics", timeout_, max_body);
      if (!res) co_return res.err();
      co_return read_vllm_metrics(res->body(), report);
    }
    case node_kind::ollama: {
      auto res = co_await get("/api/ps", timeout_, max_body);
      if (!res) co_return res.err();
      co_return read_ollama_ps(res->body(), report);
    }
    case node_kind::openai: break;
  }
  co_return true;
}

asio::awaitable<void> load_poller::fetch_tokenizer(std::uint64_t seed) {
  if (!tokenizers_.begin_fetch(seed)) co_return;
  std::string template_name;
  auto info = co_await get("/v1/tokenizer?format=json", timeout_ * 5, 1024 * 1024);
  if (info) {
    auto j = nlohmann::json::parse(info->body(), nullptr, false);
    if (j.is_object() && j.contains("chat_template") && j["chat_template"].is_string())
      template_name = j["chat_template"].get<std::string>();
  }
  auto gguf = co_await get("/v1/tokenizer", timeout_ * 20, 256 * 1024 * 1024);
  http::result<bool> loaded = gguf ? tokenizers_.load(seed, std::move(gguf->body()), template_name) : gguf.err();
  tokenizers_.end_fetch(seed);
  if (loaded) {
    http::log_event(http::log_level::info, "tokenizer loaded",
                    {{"node", node_.name()}, {"model", node_.report().model}, {"chat_template", template_name}});
  } else {
    http::log_event(http::log_level::warn, "tokenizer not loaded: prefixes of this node are matched by bytes",
                    {{"node", node_.name()}, {"error", loaded.err().message}});
  }
}

asio::awaitable<void> load_poller::run() {
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  int failed_tokenizer_fetches = 0;
  while (!stopped_) {
    if (node_.healthy()) {
      node_report report;
      auto ok = co_await poll(report);
      if (stopped_) break;
      if (ok) {
        report.at = std::chrono::steady_clock::now();
        node_.set_report(report);
        router_.on_report(node_.routing_id(), report);
        metrics_.load_report(node_.name(), "ok", report);
        if (report.hash_seed && !tokenizers_.has(*report.hash_seed) && failed_tokenizer_fetches < 3) {
          co_await fetch_tokenizer(*report.hash_seed);
          if (!tokenizers_.has(*report.hash_seed)) ++failed_tokenizer_fetches;
        }
      } else {
        metrics_.load_report(node_.name(), "error", report);
        http::log_event(http::log_level::debug, "load report failed", {{"node", node_.name()}, {"error", ok.err().message}});
      }
    }
    timer_.expires_after(interval_);
    co_await timer_.async_wait(use_tuple);
  }
  close_connection();
}

}  // namespace laneway::gateway
