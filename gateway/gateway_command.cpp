// `laneway gateway -c FILE [--listen HOST:PORT] [--node URL ...] [--io-threads N] [--policy P]
// [--log-level L] [--check]`: flags override the file; without a file, defaults plus flags. The
// same flags apply again to the file re-read on SIGHUP. `--hash-key KEY` prints the sha256 for
// a [[keys]] entry. `--print-keys` lists every key the loader looks up while reading the file.
#include "gateway/gateway_command.hpp"

#include <CLI/CLI.hpp>
#include <boost/system/system_error.hpp>
#include <cstdio>

#include "gateway/api_keys.hpp"
#include "gateway/config.hpp"
#include "gateway/gateway.hpp"
#include "gateway/http/config_reader.hpp"

namespace laneway::gateway {

int gateway_command(int argc, char** argv) {
  CLI::App app{"Run the laneway gateway: one OpenAI-compatible endpoint in front of several LLM nodes.", "laneway gateway"};
  std::string config_path, listen, policy, log_level;
  std::vector<std::string> node_urls;
  int io_threads = 0;
  bool check = false, print_keys = false;
  std::string hash_key;
  app.add_option("-c,--config", config_path, "TOML config file (see conf/gateway.toml)");
  app.add_option("--listen", listen, "listen address HOST:PORT (overrides server.listen)");
  app.add_option("--node", node_urls, "add a node by URL, e.g. http://127.0.0.1:8081 (repeatable)");
  app.add_option("--io-threads", io_threads, "I/O threads (overrides server.io_threads)")->check(CLI::Range(1, 256));
  app.add_option("--policy", policy, "routing policy (overrides routing.policy)");
  app.add_option("--log-level", log_level, "debug | info | warn | error (overrides log.level)");
  app.add_flag("--check", check, "validate the configuration and exit");
  app.add_flag("--print-keys", print_keys,
               "read the file (-c) and print every config key the loader looks up, one dotted name a line, and exit");
  app.add_option("--hash-key", hash_key, "print the sha256 of an API key for a [[keys]] entry and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (!hash_key.empty()) {
    std::printf("%s\n", to_hex(sha256(hash_key)).c_str());
    return 0;
  }

  if (print_keys) {
    // Keys of tables absent from the file are not looked up: give a file with every table.
    http::key_census census;
    try {
      // Only read, not checked: TLS files and nodes need not exist for a key listing.
      parse_config(config_path.empty() ? "" : http::read_config_file(config_path), config_path.empty() ? "command line" : config_path);
    } catch (const config_error& e) {
      std::fprintf(stderr, "laneway gateway: configuration error: %s\n", e.what());
      return 2;
    }
    for (const auto& key : census.keys()) std::printf("%s\n", key.c_str());
    return 0;
  }

  // The file plus the flags, validated: at start and again on every SIGHUP.
  auto load = [=]() {
    gateway_config config;
    if (!config_path.empty()) config = load_config_file(config_path);
    std::string source = config_path.empty() ? "command line" : config_path;
    if (!listen.empty()) {
      std::string why;
      auto hp = parse_host_port(listen, &why);
      if (!hp) throw config_error("--listen: " + why);
      config.server.listen = *hp;
    }
    for (const auto& url : node_urls) add_node_url(config, url);
    if (io_threads > 0) config.server.io_threads = io_threads;
    if (!policy.empty()) {
      if (auto why = policy_problem(policy)) throw config_error("--policy: " + *why);
      config.routing.policy = policy;
    }
    if (!log_level.empty()) {
      if (auto why = log_level_problem(log_level)) throw config_error("--log-level: " + *why);
      config.log.level = log_level;
    }
    validate(config, source);
    return config;
  };
  gateway_config config;
  std::shared_ptr<boost::asio::ssl::context> tls;
  try {
    config = load();
    tls = check_tls(config, config_path.empty() ? "command line" : config_path);
  } catch (const config_error& e) {
    std::fprintf(stderr, "laneway gateway: configuration error: %s\n", e.what());
    return 2;
  }
  if (check) {
    std::printf("configuration ok: %zu node(s), listen %s:%u\n", config.nodes.size(), config.server.listen.host.c_str(),
                config.server.listen.port);
    return 0;
  }
  try {
    return run_gateway(config, config_path.empty() ? std::function<gateway_config()>{} : std::function<gateway_config()>(load), tls);
  } catch (const boost::system::system_error& e) {
    std::fprintf(stderr, "laneway gateway: cannot start: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "laneway gateway: cannot start: %s\n", e.what());
    return 1;
  }
}

}  // namespace laneway::gateway
