// Config loading: the shipped example loads; every invalid value is rejected naming its key.
#include <doctest/doctest.h>

#include <string>

#include "gateway/config.hpp"
#include "gateway/http/duration.hpp"
#include "gateway/router.hpp"
#include "gateway/url.hpp"

using namespace laneway::gateway;
using laneway::http::parse_duration;

namespace {
const std::string node = "\n[[nodes]]\nurl = \"http://127.0.0.1:9000\"\n";

// The config_error message for `text`, or "" when it loads.
std::string error_of(const std::string& text) {
  try {
    auto c = parse_config(text, "t.toml");
    validate(c, "t.toml");
    return "";
  } catch (const config_error& e) {
    return e.what();
  }
}
}  // namespace

TEST_SUITE("gateway") {
  TEST_CASE("[routing] TTFT knobs reach the policy configuration") {
    auto c = parse_config("[routing]\npolicy = \"kv_aware\"\nmove_factor = 3\ndefault_prefill_tokens_per_s = 900\n" + node, "t.toml");
    const auto p = to_policy_config(c.routing);
    CHECK(p.move_factor == 3.0);
    CHECK(p.ttft.default_prefill_tokens_per_s == 900.0);
    CHECK(to_policy_config(parse_config(node, "t.toml").routing).move_factor == 2.0);
  }

  TEST_CASE("[tls]: listen and both files required; off when absent") {
    auto c = parse_config("[tls]\nlisten = \"0.0.0.0:8443\"\ncert_file = \"/c.pem\"\nkey_file = \"/k.pem\"\n" + node, "t.toml");
    CHECK(c.tls.enabled);
    CHECK(c.tls.listen.port == 8443);
    CHECK(c.tls.cert_file == "/c.pem");
    CHECK_FALSE(parse_config(node, "t.toml").tls.enabled);
    CHECK(error_of("[tls]\ncert_file = \"c\"\nkey_file = \"k\"\n" + node).find("t.toml: tls.listen: is required") == 0);
    CHECK(error_of("[tls]\nlisten = \"127.0.0.1:1\"\nkey_file = \"k\"\n" + node).find("tls.cert_file: is required") != std::string::npos);
    CHECK(error_of("[tls]\nlisten = \"127.0.0.1:1\"\ncert_file = \"c\"\n" + node).find("tls.key_file: is required") != std::string::npos);
    CHECK(error_of("[tls]\nlisten = \"127.0.0.1:1\"\ncert_file = \"c\"\nkey_file = \"k\"\nciphers = \"x\"\n" + node)
              .find("tls.ciphers") != std::string::npos);
  }

  TEST_CASE("conf/gateway.toml loads with its documented values") {
    auto c = load_config_file(std::string(LANEWAY_SOURCE_DIR) + "/conf/gateway.toml");
    validate(c, "conf/gateway.toml");
    CHECK(c.server.listen.host == "127.0.0.1");
    CHECK(c.server.listen.port == 8080);
    CHECK(c.server.io_threads == 2);
    CHECK(c.upstream.retries == 1);
    CHECK(c.health.interval == std::chrono::seconds(2));
    REQUIRE(c.nodes.size() == 2);
    CHECK(c.nodes[0].name == "mac-studio-1");
    CHECK(c.nodes[1].url.port == 8082);
    CHECK(c.routing.policy == "kv_aware");
    CHECK(c.routing.load_interval == std::chrono::seconds(1));
    CHECK(c.nodes[0].kind == "laneway");
    REQUIRE(c.lanes.size() == 2);
    CHECK(c.lanes[0].name == "chat");
    CHECK(c.lanes[0].priority == 10);
    CHECK(c.lanes[0].context_budget == 8192);
    CHECK(c.lanes[1].sheddable);
    REQUIRE(c.keys.size() == 2);
    CHECK(c.keys[0].lane == "chat");
    CHECK(c.keys[1].allow_lane_header);
    CHECK_FALSE(c.tls.enabled);  // documented, commented out
  }

  TEST_CASE("defaults apply when tables are absent") {
    auto c = parse_config(node, "t.toml");
    validate(c, "t.toml");
    CHECK(c.server.max_body_bytes == 16u * 1024 * 1024);
    CHECK(c.nodes[0].name == "127.0.0.1:9000");
    CHECK(c.nodes[0].kind == "openai");
  }

  TEST_CASE("invalid values are rejected naming the key") {
    struct row {
      std::string toml;
      std::string key;
    };
    const row table[] = {
        {"[server]\nio_threads = 0\n" + node, "server.io_threads"},
        {"[server]\nio_threads = \"two\"\n" + node, "server.io_threads"},
        {"[server]\nlisten = \"nohost\"\n" + node, "server.listen"},
        {"[server]\nlisten = \"127.0.0.1:99999\"\n" + node, "server.listen"},
        {"[server]\nheader_timeout = \"5 parsecs\"\n" + node, "server.header_timeout"},
        {"[server]\nbody_timeout = \"-1s\"\n" + node, "server.body_timeout"},
        {"[server]\nmax_body_bytes = 1\n" + node, "server.max_body_bytes"},
        {"[server]\ncolour = \"blue\"\n" + node, "server.colour"},
        {"[upstream]\nretries = 99\n" + node, "upstream.retries"},
        {"[upstream]\npool_idle_timeout = \"10m\"\nmax_connection_age = \"1m\"\n" + node, "upstream.pool_idle_timeout"},
        {"[health]\npath = \"health\"\n" + node, "health.path"},
        {"[health]\ntimeout = \"5s\"\ninterval = \"1s\"\n" + node, "health.timeout"},
        {"[routing]\npolicy = \"magic\"\n" + node, "routing.policy"},
        {"[log]\nlevel = \"loud\"\n" + node, "log.level"},
        {"[[nodes]]\nname = \"x\"\n", "nodes[0].url"},
        {"[[nodes]]\nurl = \"ftp://h:1\"\n", "nodes[0].url"},
        {"[[nodes]]\nurl = \"http://h:1\"\nkind = \"tgi\"\n", "nodes[0].kind"},
        {"[[nodes]]\nurl = \"http://h:1\"\nmodels = [1]\n", "nodes[0].models"},
        {"[[nodes]]\nurl = \"http://h:1\"\nname = \"a b\"\n", "nodes[0].name"},
        {"[[nodes]]\nurl = \"http://h:1\"\nname = \"a\"\n[[nodes]]\nurl = \"http://h:2\"\nname = \"a\"\n", "nodes[1].name"},
        {"[[nodes]]\nurl = \"http://h:1\"\nweight = 3\n", "nodes[0].weight"},
        {"nodes = 3\n", "nodes"},
        {"[server]\n", "nodes"},
        {"unknown_top = 1\n" + node, "unknown_top"},
        {"[server\n", "t.toml:1"},
        {"[routing]\nload_interval = \"1ms\"\n" + node, "routing.load_interval"},
        {"[routing]\nmean_output_tokens = -3\n" + node, "routing.mean_output_tokens"},
        {"[routing]\nmove_factor = 0.5\n" + node, "routing.move_factor"},
        {"[[lanes]]\nname = \"a b\"\n" + node, "lanes[0].name"},
        {"[[lanes]]\nname = \"a\"\nweight = 0\n" + node, "lanes[0].weight"},
        {"[[lanes]]\nname = \"a\"\nrequests_per_s = \"fast\"\n" + node, "lanes[0].requests_per_s"},
        {"[[lanes]]\nname = \"a\"\nqueue_timeout = \"0ms\"\n" + node, "lanes[0].queue_timeout"},
        {"[[lanes]]\nname = \"a\"\npaths = [\"v1\"]\n" + node, "lanes[0].paths"},
        {"[[lanes]]\nname = \"a\"\ncolour = 1\n" + node, "lanes[0].colour"},
        {"[[lanes]]\nname = \"a\"\n[[lanes]]\nname = \"a\"\n" + node, "lanes[1].name"},
        {"[[keys]]\nname = \"k\"\nsha256 = \"abc\"\n" + node, "keys[0].sha256"},
        {"[[keys]]\nsha256 = \"" + std::string(64, 'a') + "\"\nlane = \"nope\"\n" + node, "keys[0].lane"},
        {"[[keys]]\nsha256 = \"" + std::string(64, 'a') + "\"\n[[keys]]\nsha256 = \"" + std::string(64, 'A') + "\"\n" + node, "keys[1].sha256"},
        {"lanes = 3\n" + node, "lanes"},
    };
    for (const auto& r : table) {
      CAPTURE(r.toml);
      auto msg = error_of(r.toml);
      REQUIRE_FALSE(msg.empty());
      CHECK(msg.find(r.key) != std::string::npos);
      CHECK(msg.find("t.toml") == 0);
    }
  }

  TEST_CASE("command-line nodes are named by host:port") {
    gateway_config c;
    add_node_url(c, "http://localhost:8081/v");
    validate(c, "cli");
    CHECK(c.nodes[0].name == "localhost:8081");
    CHECK(c.nodes[0].url.prefix == "/v");
    CHECK_THROWS_AS(add_node_url(c, "localhost:8081"), config_error);
  }

  TEST_CASE("durations") {
    CHECK(parse_duration("250ms") == millis(250));
    CHECK(parse_duration("2s") == millis(2000));
    CHECK(parse_duration("1.5m") == millis(90'000));
    CHECK(parse_duration("1h") == millis(3'600'000));
    CHECK(parse_duration("3") == millis(3000));
    for (auto bad : {"", "s", "1d", "-2s", "1e300s", "nan"}) {
      CAPTURE(bad);
      std::string why;
      CHECK_FALSE(parse_duration(bad, &why));
      CHECK_FALSE(why.empty());
    }
  }

  TEST_CASE("node urls and listen addresses") {
    auto u = parse_node_url("http://[::1]:8000/");
    REQUIRE(u);
    CHECK(u->host == "::1");
    CHECK(u->host_header() == "[::1]:8000");
    CHECK(u->prefix.empty());
    auto d = parse_node_url("http://example.org");
    REQUIRE(d);
    CHECK(d->port == 80);
    CHECK(d->host_header() == "example.org");
    CHECK_FALSE(parse_node_url("http://h:0"));
    CHECK_FALSE(parse_node_url("http://user:pw@h:1"));
    auto hp = parse_host_port("[::]:0");
    REQUIRE(hp);
    CHECK(hp->host == "::");
    CHECK_FALSE(parse_host_port(":80"));
    CHECK_FALSE(parse_host_port("h:x"));
  }
}
