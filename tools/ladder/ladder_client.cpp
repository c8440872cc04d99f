// run_client: the closed loop of one ladder client (see ladder_client.hpp). A failed or closed
// connection is reopened before the next request; a refused connect waits 100 ms before retrying.
#include "tools/ladder/ladder_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tools/ladder/ladder_connection.hpp"

namespace laneway::ladder {

namespace asio = boost::asio;

namespace {
double seconds(ladder_clock::duration d) { return std::chrono::duration<double>(d).count(); }
}  // namespace

asio::awaitable<void> run_client(const ladder_target& target, const prompt_mix& mix, int concurrency, int client,
                                 ladder_clock::time_point rung_start, ladder_clock::time_point stop_at,
                                 std::vector<request_sample>& out) {
  auto ex = co_await asio::this_coro::executor;
  ladder_connection conn(ex, target);
  for (int seq = 0; ladder_clock::now() < stop_at; ++seq) {
    const auto& entry = mix.pick(client, seq);
    request_sample s;
    s.concurrency = concurrency;
    s.client = client;
    s.seq = seq;
    s.kind = entry.kind;
    s.short_prompt = entry.short_prompt;
    s.stream = entry.streams(target.stream);
    auto start = ladder_clock::now();
    s.start_s = seconds(start - rung_start);
    if (conn.is_open() && conn.dead()) conn.close();
    if (!conn.is_open()) {
      std::string detail;
      std::string failed = co_await conn.open(&detail);
      if (!failed.empty()) {
        s.error_class = failed;
        s.error_detail = detail;
        s.e2e_s = seconds(ladder_clock::now() - start);
        out.push_back(std::move(s));
        // Do not spin on a refused port or a failing handshake: wait a little before retrying.
        asio::steady_timer pause(ex);
        pause.expires_after(std::chrono::milliseconds(100));
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      s.new_connection = true;
      s.setup_s = conn.setup_s();
    }
    co_await conn.exchange(request_body(entry, target.model, target.max_tokens, s.stream), s.stream, true, s);
    out.push_back(std::move(s));
  }
  conn.close();
}

}  // namespace laneway::ladder
