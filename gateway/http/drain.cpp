// Serve-until-signal and graceful drain (see drain.hpp).
#include "gateway/http/drain.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <future>
#include <nlohmann/json.hpp>

#include "gateway/http/log.hpp"

namespace laneway::http {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}

drain_result serve_until_stopped(io_pool& io, server& srv, std::chrono::milliseconds grace,
                                 const std::function<void()>& before_stop) {
  asio::signal_set signals(io.context(0), SIGINT, SIGTERM);
  std::promise<void> drained;
  drain_result result;
  auto drain = [&]() -> asio::awaitable<void> {
    auto [ec, sig] = co_await signals.async_wait(use_tuple);
    if (ec) co_return;
    log_event(log_level::info, "draining", {{"signal", sig}, {"in_flight", srv.busy_requests()}, {"grace_ms", grace.count()}});
    srv.drain();
    signals.async_wait([&](const boost::system::error_code& e, int) {
      if (!e) srv.close_all();
    });
    auto deadline = std::chrono::steady_clock::now() + grace;
    asio::steady_timer poll(io.context(0));
    while (srv.busy_requests() > 0 && std::chrono::steady_clock::now() < deadline) {
      poll.expires_after(std::chrono::milliseconds(20));
      co_await poll.async_wait(use_tuple);
    }
    result.requests_cut = srv.busy_requests();
    srv.close_all();
    log_event(log_level::info, "stopped", {{"requests_cut", result.requests_cut}});
    drained.set_value();  // the last thing this coroutine does with the locals below
  };
  asio::co_spawn(io.context(0), drain(), asio::detached);
  io.start();
  drained.get_future().wait();
  if (before_stop) before_stop();
  // Give handlers posted by the caller and the sessions' last writes a moment, then stop.
  asio::steady_timer settle(io.context(0));
  std::promise<void> settled;
  settle.expires_after(std::chrono::milliseconds(50));
  settle.async_wait([&](const boost::system::error_code&) { settled.set_value(); });
  settled.get_future().wait_for(std::chrono::seconds(2));
  io.stop();
  io.join();
  return result;
}

}  // namespace laneway::http
