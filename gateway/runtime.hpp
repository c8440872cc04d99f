// The gateway's reloadable state. A snapshot (config, nodes, keys, lanes, admission gate) is
// immutable once published; each request holds the one it started with, so a SIGHUP reload
// (runtime::reload) never changes a request midway and drops no connection. Nodes whose name,
// URL and kind are unchanged are kept (pools, health, prefix index); new ones start their agents
// (probes, load polling, KV events); removed ones are stopped and their index entries dropped.
// State that outlives reloads: the router (indexes, rates, policy) and the tokenizer cache.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gateway/admission_gate.hpp"
#include "gateway/api_keys.hpp"
#include "gateway/config.hpp"
#include "gateway/http/io_pool.hpp"
#include "gateway/lanes.hpp"
#include "gateway/metrics.hpp"
#include "gateway/node.hpp"
#include "gateway/prompt_hasher.hpp"
#include "gateway/router.hpp"

namespace laneway::gateway {

struct snapshot {
  std::shared_ptr<const gateway_config> config;
  std::vector<std::shared_ptr<node>> nodes;
  key_table keys;
  lane_table lanes;
  std::shared_ptr<admission_gate> gate;
  std::uint64_t generation = 0;  // 1 at start, +1 per accepted reload
};

class runtime {
 public:
  // `load` re-reads and validates the configuration (file plus the command line's overrides);
  // it throws config_error on a bad one.
  runtime(const gateway_config& config, std::function<gateway_config()> load, http::io_pool& io,
          gateway_metrics& metrics);
  ~runtime();

  std::shared_ptr<const snapshot> current() const;
  router& routes() { return router_; }
  tokenizer_cache& tokenizers() { return tokenizers_; }

  void start();  // starts every node's agents and the capacity refresh
  void stop();   // stops them and closes the upstream pools (call before stopping the I/O threads)
  // SIGHUP: the new config, or the old one kept with the reason logged. Returns whether it took.
  bool reload();

 private:
  struct agents;
  std::shared_ptr<const snapshot> build(const gateway_config& config, std::uint64_t generation);
  void start_agents(const std::shared_ptr<node>& n, const gateway_config& config);
  void retire(const std::shared_ptr<node>& n);
  void refresh_capacity();

  std::function<gateway_config()> load_;
  http::io_pool& io_;
  gateway_metrics& metrics_;
  router router_;
  tokenizer_cache tokenizers_;
  mutable std::mutex mutex_;
  std::shared_ptr<const snapshot> current_;
  std::mutex agents_mutex_;                       // reload (a signal) vs start / stop
  std::vector<std::unique_ptr<agents>> agents_;   // live nodes' agents, by node name
  std::vector<std::unique_ptr<agents>> retired_;  // stopped; kept until exit (their posted stops hold `this`)
  std::size_t next_thread_ = 0;
  struct refresher;
  std::unique_ptr<refresher> refresher_;
};

}  // namespace laneway::gateway
