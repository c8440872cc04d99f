// TLS configuration: the [tls] client-certificate keys, the [[nodes]] tls_* keys of https nodes,
// certificate identities in [[keys]], and the files loaded by validate(); every bad value is
// rejected naming its key.
#include <doctest/doctest.h>

#include <string>

#include "gateway/api_keys.hpp"
#include "gateway/config.hpp"

using namespace laneway::gateway;

namespace {

const std::string fp = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
const std::string fp_hex = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
const std::string https_node = "[[nodes]]\nname = \"n\"\nurl = \"https://node.example\"\n";
const std::string tls_table = "[tls]\nlisten = \"127.0.0.1:0\"\ncert_file = \"/c.pem\"\nkey_file = \"/k.pem\"\n";

// The config_error message of parsing (and, with `check`, validating) `text`; "" when it loads.
std::string error_of(const std::string& text, bool check = false) {
  try {
    auto c = parse_config(text, "t.toml");
    if (check) validate(c, "t.toml");
    return "";
  } catch (const config_error& e) {
    return e.what();
  }
}

bool mentions(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_SUITE("gateway") {
  TEST_CASE("https node URLs: port 443 by default, no port in the Host header") {
    auto u = parse_node_url("https://node.example/v1x");
    REQUIRE(u);
    CHECK(u->tls());
    CHECK(u->port == 443);
    CHECK(u->prefix == "/v1x");
    CHECK(u->host_header() == "node.example");
    CHECK(parse_node_url("https://node.example:8443")->host_header() == "node.example:8443");
    CHECK(parse_node_url("http://h:443")->host_header() == "h:443");
    CHECK_FALSE(parse_node_url("https://"));
  }

  TEST_CASE("[[nodes]] tls_* keys are read for https nodes") {
    auto c = parse_config(https_node + "tls_ca_file = \"/ca.pem\"\ntls_server_name = \"inner.example\"\ntls_pin_sha256 = \"" +
                              fp + "\"\ntls_cert_file = \"/client.pem\"\ntls_key_file = \"/client.key\"\n",
                          "t.toml");
    const auto& t = c.nodes.at(0).tls;
    CHECK(t.ca_file == "/ca.pem");
    CHECK(t.server_name == "inner.example");
    CHECK(t.pin_sha256 == fp_hex);  // colons dropped, lowercase
    CHECK(t.cert_file == "/client.pem");
    CHECK(t.key_file == "/client.key");
    CHECK(t.verifies_chain());  // a CA file and a pin: both checked
    auto pin_only = parse_config(https_node + "tls_pin_sha256 = \"" + fp_hex + "\"\n", "t.toml");
    CHECK_FALSE(pin_only.nodes[0].tls.verifies_chain());  // the pin alone vouches (self-signed hosts)
    CHECK(parse_config(https_node, "t.toml").nodes[0].tls.verifies_chain());  // the system store
  }

  TEST_CASE("[[nodes]] tls_* mistakes name the key") {
    struct bad {
      std::string toml, key;
    };
    const bad cases[] = {
        {"[[nodes]]\nurl = \"http://h:1\"\ntls_ca_file = \"/ca.pem\"\n", "nodes[0].tls_ca_file: is only for https://"},
        {"[[nodes]]\nurl = \"http://h:1\"\ntls_pin_sha256 = \"" + fp_hex + "\"\n", "nodes[0].tls_pin_sha256: is only for https://"},
        {https_node + "tls_pin_sha256 = \"abc\"\n", "nodes[0].tls_pin_sha256: must be the 64 hex digits"},
        {https_node + "tls_pin_sha256 = \"" + fp_hex.substr(1) + "z\"\n", "nodes[0].tls_pin_sha256"},
        {https_node + "tls_cert_file = \"/c.pem\"\n", "nodes[0].tls_key_file: tls_cert_file and tls_key_file go together"},
        {https_node + "tls_key_file = \"/k.pem\"\n", "nodes[0].tls_cert_file: tls_cert_file and tls_key_file go together"},
        {https_node + "tls_ca_file = 3\n", "nodes[0].tls_ca_file"},
        {https_node + "tls_verify = false\n", "nodes[0].tls_verify"},
        {"[[nodes]]\nurl = \"httpx://h:1\"\n", "nodes[0].url: unsupported scheme"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.toml);
      CHECK(mentions(error_of(c.toml), "t.toml: " + c.key));
    }
  }

  TEST_CASE("[tls] client certificates: mode and CA") {
    auto off = parse_config(tls_table + https_node, "t.toml");
    CHECK(off.tls.client_certs == laneway::http::client_cert_mode::off);
    auto implied = parse_config(tls_table + "client_ca_file = \"/ca.pem\"\n" + https_node, "t.toml");
    CHECK(implied.tls.client_certs == laneway::http::client_cert_mode::required);  // a CA alone means required
    auto optional = parse_config(tls_table + "client_ca_file = \"/ca.pem\"\nclient_certs = \"optional\"\n" + https_node, "t.toml");
    CHECK(optional.tls.client_certs == laneway::http::client_cert_mode::optional);
    CHECK(mentions(error_of(tls_table + "client_certs = \"sometimes\"\n" + https_node),
                   "tls.client_certs: must be one of off, optional, required"));
    CHECK(mentions(error_of(tls_table + "client_certs = \"required\"\n" + https_node),
                   "tls.client_ca_file: is required when client_certs is \"required\""));
  }

  TEST_CASE("validate() loads the TLS files and names the key of a bad one") {
    CHECK(mentions(error_of(tls_table + https_node, true), "t.toml: tls.cert_file: cannot read \"/c.pem\""));
    CHECK(mentions(error_of(https_node + "tls_ca_file = \"/nonexistent/ca.pem\"\n", true),
                   "t.toml: nodes[0].tls_ca_file: cannot read \"/nonexistent/ca.pem\""));
    CHECK(mentions(error_of(https_node + "tls_cert_file = \"/nonexistent/c.pem\"\ntls_key_file = \"/nonexistent/k.pem\"\n", true),
                   "nodes[0].tls_cert_file: cannot read"));
    // A file that is there but is not PEM.
    CHECK(mentions(error_of(https_node + "tls_ca_file = \"" LANEWAY_SOURCE_DIR "/conf/gateway.toml\"\n", true),
                   "nodes[0].tls_ca_file: \"" LANEWAY_SOURCE_DIR "/conf/gateway.toml\" holds no PEM CA certificate"));
    CHECK(error_of(https_node, true).empty());  // the system store
  }

  TEST_CASE("[[keys]]: a client certificate stands for an API key") {
    auto c = parse_config(https_node + "[[keys]]\nname = \"robot\"\ncert_sha256 = \"" + fp +
                              "\"\ntenant = \"robots\"\n[[keys]]\nname = \"by-cn\"\ncert_cn = \"agent-7\"\ntenant = \"agents\"\n"
                              "[[keys]]\nname = \"both\"\ncert_sha256 = \"" + std::string(64, '1') +
                              "\"\ncert_cn = \"exact\"\ntenant = \"both\"\n",
                          "t.toml");
    validate(c, "t.toml");
    REQUIRE(c.keys.size() == 3);
    CHECK(c.keys[0].cert_sha256 == fp_hex);
    CHECK(c.keys[0].sha256.empty());
    key_table t(c.keys);
    CHECK(t.required());
    CHECK_FALSE(t.find("anything"));
    CHECK(t.find_certificate(fp_hex, "whoever")->tenant == "robots");
    CHECK(t.find_certificate(std::string(64, '0'), "agent-7")->tenant == "agents");
    CHECK_FALSE(t.find_certificate(std::string(64, '0'), "agent-8"));
    CHECK_FALSE(t.find_certificate(std::string(64, '0'), ""));
    CHECK(t.find_certificate(std::string(64, '1'), "exact")->tenant == "both");
    CHECK_FALSE(t.find_certificate(std::string(64, '1'), "other"));  // naming both: both must match
  }

  TEST_CASE("[[keys]] certificate mistakes name the key") {
    CHECK(mentions(error_of(https_node + "[[keys]]\nname = \"k\"\ntenant = \"t\"\n"),
                   "keys[0].sha256: must be the 64 hex digits of SHA-256(key) (laneway gateway --hash-key KEY prints it), "
                   "or give cert_sha256 / cert_cn"));
    CHECK(mentions(error_of(https_node + "[[keys]]\nname = \"k\"\ncert_sha256 = \"12:34\"\n"), "keys[0].cert_sha256: must be"));
    CHECK(mentions(error_of(https_node + "[[keys]]\nname = \"a\"\ncert_cn = \"x\"\n[[keys]]\nname = \"b\"\ncert_cn = \"x\"\n", true),
                   "keys[1].cert_cn: the same subject CN is listed twice"));
    CHECK(mentions(error_of(https_node + "[[keys]]\nname = \"a\"\ncert_sha256 = \"" + fp + "\"\n[[keys]]\nname = \"b\"\ncert_sha256 = \"" +
                                fp_hex + "\"\n",
                            true),
                   "keys[1].cert_sha256: the same certificate is listed twice"));
  }

  TEST_CASE("normalize_sha256") {
    CHECK(normalize_sha256(fp) == fp_hex);
    CHECK(normalize_sha256(fp_hex) == fp_hex);
    CHECK(normalize_sha256("").empty());
    CHECK(normalize_sha256(fp_hex + "00").empty());
    CHECK(normalize_sha256("g" + fp_hex.substr(1)).empty());
  }
}
