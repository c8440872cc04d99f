// The worker's TOML config: conf/worker.toml loads and holds the defaults; bad files are
// rejected with the file and key named; byte sizes parse.
#include <doctest/doctest.h>

#include "backends/worker/worker_config.hpp"
#include "gateway/http/config_reader.hpp"

using namespace laneway::worker;

TEST_SUITE("worker") {
  TEST_CASE("conf/worker.toml loads with the documented defaults") {
    const worker_config c = load_worker_config(std::string(LANEWAY_SOURCE_DIR) + "/conf/worker.toml");
    const worker_config d;
    CHECK(c.port == d.port);
    CHECK(c.kv_memory == (1ull << 30));
    CHECK(c.block_size == 16);
    CHECK(c.max_seqs == d.max_seqs);
    CHECK(c.step_tokens == d.step_tokens);
    CHECK(c.request_timeout == d.request_timeout);
    CHECK(c.prefix_caching);
    CHECK(c.model_path.empty());
  }

  TEST_CASE("bad worker configs name the file and key") {
    struct row {
      const char* toml;
      const char* message_part;
    };
    const row table[] = {
        {"[server]\nport = 70000\n", "t.toml: server.port: must be between 0 and 65535"},
        {"[server]\nbogus = 1\n", "t.toml: server.bogus: unknown key"},
        {"[engine]\nkv_memory = \"lots\"\n", "t.toml: engine.kv_memory: 'lots' does not start with a number"},
        {"[engine]\nkv_memory = \"2 parsecs\"\n", "engine.kv_memory: unknown unit 'parsecs'"},
        {"[engine]\nkv_memory = \"1KiB\"\n", "engine.kv_memory: must be between 64KiB"},
        {"[engine]\nkv_type = \"q2\"\n", "engine.kv_type: must be \"f16\" or \"f32\""},
        {"[engine]\nmax_seqs = 0\n", "engine.max_seqs: must be between 1"},
        {"[engine]\nprefix_caching = \"yes\"\n", "engine.prefix_caching: must be true or false"},
        {"[engine]\nmax_seqs = 64\nstep_tokens = 32\n", "engine.step_tokens: must be at least engine.max_seqs"},
        {"[model]\nchat_template = \"jinja\"\n", "model.chat_template: must be one of chatml, llama3, plain"},
        {"[server]\nrequest_timeout = \"forever\"\n", "server.request_timeout"},
        {"[log]\nlevel = \"loud\"\n", "log.level: must be one of"},
        {"[engine\n", "t.toml:1:"},
        {"model = 3\n", "t.toml: model: must be a table"},
    };
    for (const auto& r : table) {
      CAPTURE(r.toml);
      try {
        parse_worker_config(r.toml, "t.toml");
        FAIL("accepted a bad config");
      } catch (const config_error& e) {
        CHECK(std::string(e.what()).find(r.message_part) != std::string::npos);
      }
    }
  }

  TEST_CASE("byte sizes") {
    using laneway::http::parse_byte_size;
    CHECK(parse_byte_size("2GiB") == (2ull << 30));
    CHECK(parse_byte_size("512MiB") == (512ull << 20));
    CHECK(parse_byte_size("1.5GiB") == (3ull << 29));
    CHECK(parse_byte_size("1GB") == 1000000000ull);
    CHECK(parse_byte_size("4096") == 4096ull);
    CHECK(parse_byte_size("8 KiB") == 8192ull);
    std::string why;
    CHECK_FALSE(parse_byte_size("-1GiB", &why));
    CHECK_FALSE(parse_byte_size("", &why));
    CHECK_FALSE(parse_byte_size("GiB", &why));
    CHECK(laneway::http::format_byte_size(2ull << 30) == "2GiB");
    CHECK(laneway::http::format_byte_size(123) == "123B");
  }

  TEST_CASE("the bundled default model exists in the source tree") {
    const std::string p = default_model_path();
    CHECK(p.find("stories260K.gguf") != std::string::npos);
    std::FILE* f = std::fopen(p.c_str(), "rb");
    CHECK(f != nullptr);
    if (f) std::fclose(f);
  }
}
