// The node kinds' load formats, parsed from bodies shaped as the real servers send them.
#include <doctest/doctest.h>

#include "gateway/node_report.hpp"

using namespace laneway::gateway;

TEST_SUITE("gateway") {
  TEST_CASE("prometheus values: sums over label sets, ignores longer names and comments") {
    const std::string text =
        "# HELP vllm:num_requests_running Number of requests\n"
        "# TYPE vllm:num_requests_running gauge\n"
        "vllm:num_requests_running{model_name=\"a\"} 2.0\n"
        "vllm:num_requests_running{model_name=\"b\",x=\"}\"} 3\n"
        "vllm:num_requests_running_total 99\n"
        "llamacpp:requests_processing 1\n";
    CHECK(prometheus_value(text, "vllm:num_requests_running") == doctest::Approx(5));
    CHECK(prometheus_value(text, "llamacpp:requests_processing") == doctest::Approx(1));
    CHECK_FALSE(prometheus_value(text, "vllm:num_requests_waiting"));
  }

  TEST_CASE("laneway /load") {
    node_report r;
    auto ok = read_laneway_load(
        R"({"model":"stories260K","model_fingerprint":"ab","backend":"cpu","running":2,"waiting":1,"max_seqs":8,
            "max_model_len":512,"kv_blocks_total":100,"kv_blocks_free":75,"kv_blocks_cached":20,"block_size":16,
            "hash_seed":"00000000000005ed","kv_events_seq":7,"prefill_tokens_per_s":1500.5,"decode_tokens_per_s":80,"draining":false})",
        r);
    REQUIRE(ok);
    CHECK(r.running == 2);
    CHECK(r.waiting == 1);
    CHECK(r.max_seqs == 8);
    CHECK(r.kv_usage == doctest::Approx(0.25));
    CHECK(r.kv_capacity_tokens() == 1600);
    REQUIRE(r.hash_seed);
    CHECK(*r.hash_seed == 0x5ed);
    CHECK(r.model == "stories260K");
    CHECK(r.prefill_tokens_per_s == doctest::Approx(1500.5));
    CHECK_FALSE(read_laneway_load("[1]", r));
    CHECK_FALSE(read_laneway_load(R"({"model":"x"})", r));
  }

  TEST_CASE("laneway /load: each field type-checked, the error names it") {
    struct row {
      const char* field;  // spliced into a valid report
      const char* named;  // "" = accepted
    };
    const row table[] = {
        {R"("waiting":null)", ""},
        {R"("waiting":3.0)", ""},
        {R"("waiting":"3")", "'waiting'"},
        {R"("waiting":1.5)", "'waiting'"},
        {R"("waiting":1e300)", "'waiting'"},
        {R"("waiting":4294967296)", "'waiting'"},
        {R"("max_seqs":true)", "'max_seqs'"},
        {R"("max_model_len":[1])", "'max_model_len'"},
        {R"("kv_blocks_free":{})", "'kv_blocks_free'"},
        {R"("kv_blocks_cached":-1e30)", "'kv_blocks_cached'"},
        {R"("block_size":1e9)", "'block_size'"},
        {R"("hash_seed":5)", "'hash_seed'"},
        {R"("model":1)", "'model'"},
        {R"("model_fingerprint":false)", "'model_fingerprint'"},
        {R"("kv_events_seq":"7")", "'kv_events_seq'"},
        {R"("prefill_tokens_per_s":"fast")", "'prefill_tokens_per_s'"},
        {R"("decode_tokens_per_s":[])", "'decode_tokens_per_s'"},
    };
    for (const auto& t : table) {
      std::string body = std::string(R"({"running":1,"kv_blocks_total":10,)") + t.field + "}";
      CAPTURE(body);
      node_report r;
      auto got = read_laneway_load(body, r);
      CHECK(got.ok() == (*t.named == 0));
      if (!got.ok()) CHECK(got.err().message.find(t.named) != std::string::npos);
    }
    node_report r;
    CHECK_FALSE(read_laneway_load(R"({"running":"two","kv_blocks_total":10})", r));
    CHECK_FALSE(read_llamacpp_slots(R"([{"id":0,"state":"busy"}])", r));
    CHECK_FALSE(read_ollama_ps(R"({"models":[{"name":7}]})", r));
    REQUIRE(read_vllm_metrics("vllm:num_requests_running NaN\nvllm:num_requests_waiting 1e300\n", r));
    CHECK(r.running == -1);  // not a count: unknown, not a float-to-int overflow
    CHECK(r.waiting == -1);
  }

  TEST_CASE("llama.cpp /metrics and /slots") {
    node_report r;
    REQUIRE(read_llamacpp_metrics(
        "# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.\n"
        "# TYPE llamacpp:prompt_tokens_total counter\nllamacpp:prompt_tokens_total 4521\n"
        "llamacpp:prompt_tokens_seconds 812.3\nllamacpp:predicted_tokens_seconds 41.2\n"
        "llamacpp:requests_processing 3\nllamacpp:requests_deferred 2\n",
        r));
    CHECK(r.running == 3);
    CHECK(r.waiting == 2);
    CHECK(r.prefill_tokens_per_s == doctest::Approx(812.3));
    CHECK(r.kv_usage < 0);
    REQUIRE(read_llamacpp_slots(R"([{"id":0,"n_ctx":4096,"is_processing":true},{"id":1,"n_ctx":4096,"is_processing":false},
                                    {"id":2,"state":1},{"id":3,"state":0}])", r));
    CHECK(r.slots_total == 4);
    CHECK(r.slots_busy == 2);
    CHECK(r.max_seqs == 4);
    CHECK_FALSE(read_llamacpp_metrics("vllm:num_requests_running 1\n", r));
    CHECK_FALSE(read_llamacpp_slots(R"({"error":"slots disabled"})", r));
  }

  TEST_CASE("vLLM /metrics, the newer and the older KV gauge") {
    node_report r;
    REQUIRE(read_vllm_metrics("vllm:num_requests_running{model_name=\"m\"} 4.0\n"
                              "vllm:num_requests_waiting{model_name=\"m\"} 6.0\n"
                              "vllm:kv_cache_usage_perc{model_name=\"m\"} 0.42\n", r));
    CHECK(r.running == 4);
    CHECK(r.waiting == 6);
    CHECK(r.kv_usage == doctest::Approx(0.42));
    node_report old;
    REQUIRE(read_vllm_metrics("vllm:num_requests_running 0\nvllm:gpu_cache_usage_perc 0.1\n", old));
    CHECK(old.kv_usage == doctest::Approx(0.1));
    CHECK(old.waiting == -1);
  }

  TEST_CASE("Ollama /api/ps") {
    node_report r;
    REQUIRE(read_ollama_ps(R"({"models":[{"name":"llama3:latest","model":"llama3:latest","size":5137025024,
        "digest":"365c0b","details":{"family":"llama"},"expires_at":"2024-06-04T14:38:31Z","size_vram":5137025024},
        {"model":"qwen2:0.5b"}]})", r));
    REQUIRE(r.loaded_models.size() == 2);
    CHECK(r.loaded_models[0] == "llama3:latest");
    CHECK(r.loaded_models[1] == "qwen2:0.5b");
    CHECK(r.running == -1);
    CHECK_FALSE(read_ollama_ps(R"({"data":[]})", r));
  }

  TEST_CASE("hex64") {
    CHECK(parse_hex64("ffffffffffffffff") == 0xffffffffffffffffull);
    CHECK_FALSE(parse_hex64("1ffffffffffffffff"));
    CHECK_FALSE(parse_hex64("xyz"));
    CHECK_FALSE(parse_hex64(""));
  }
}
