// One closed-loop client of `laneway ladder`: a keep-alive HTTP/1.1 connection (TLS for https)
// that sends the next request from the prompt mix as soon as its last one ended, measuring each
// (no Beast here: the connection lives in ladder_connection.hpp).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "gateway/url.hpp"
#include "tools/ladder/ladder_stats.hpp"
#include "tools/ladder/prompt_mix.hpp"

namespace boost::asio::ssl {
class context;
}

namespace laneway::ladder {

using ladder_clock = std::chrono::steady_clock;

struct ladder_target {
  gateway::node_url url;
  std::string model;
  std::string key;  // "" for none; sent as Authorization: Bearer
  std::shared_ptr<boost::asio::ssl::context> tls;  // set for https URLs
  bool verify_host = true;                         // false with --insecure
  bool stream = false;
  int max_tokens = 32;
  std::chrono::milliseconds request_timeout{60000};  // whole exchange; past it: error class timeout
  std::chrono::milliseconds connect_timeout{10000};
};

// Sends requests until `stop_at` (a request started before it runs to completion or timeout),
// appending one sample each to `out` (single-threaded io_context: no lock).
boost::asio::awaitable<void> run_client(const ladder_target& target, const prompt_mix& mix, int concurrency,
                                        int client, ladder_clock::time_point rung_start,
                                        ladder_clock::time_point stop_at, std::vector<request_sample>& out);

// Feeds SSE bytes, turns `data:` events into first-token / gap / usage measurements. Exposed for tests.
class sse_meter {
 public:
  explicit sse_meter(ladder_clock::time_point start) : start_(start) {}
  // Returns false (and sets `why`) on a malformed event.
  bool feed(const char* data, std::size_t n, ladder_clock::time_point now, std::string* why);
  double ttft_s() const { return ttft_s_; }
  const std::vector<double>& gaps_s() const { return gaps_s_; }
  long prompt_tokens() const { return prompt_tokens_; }
  long completion_tokens() const { return completion_tokens_; }
  int content_chunks() const { return chunks_; }
  bool done() const { return done_; }

 private:
  bool on_event(const std::string& data, ladder_clock::time_point now, std::string* why);
  ladder_clock::time_point start_, last_;
  std::string pending_;
  double ttft_s_ = -1;
  std::vector<double> gaps_s_;
  long prompt_tokens_ = 0, completion_tokens_ = 0;
  int chunks_ = 0;
  bool done_ = false;
};

}  // namespace laneway::ladder
