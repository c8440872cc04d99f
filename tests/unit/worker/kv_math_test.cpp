// KV math on the bundled model (5 layers, 4 KV heads of 8): bytes per token by hand, the fit
// verdict on both sides of the line, and the text/JSON outputs.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "backends/engine/kv_math.hpp"
#include "backends/engine/model.hpp"

using namespace laneway::engine;

TEST_SUITE("worker") {
  TEST_CASE("kv math for stories260K") {
    const model m = model::open(std::string(LANEWAY_SOURCE_DIR) + "/backends/worker/models/stories260K.gguf");
    // 2 (K, V) * 5 layers * 4 heads * 8 dims * 2 bytes (f16) = 640
    CHECK(kv_bytes_per_token(m, laneway::cpu::dtype::f16) == 640);
    CHECK(kv_bytes_per_token(m, laneway::cpu::dtype::f32) == 1280);

    kv_plan_input in;
    in.ctx = 1000;  // 63 blocks of 16 = 1008 tokens
    in.seqs = 4;
    kv_plan p = plan_kv(m, in);
    CHECK(p.blocks_per_seq == 63);
    CHECK(p.bytes_per_seq == 63ull * 16 * 640);
    CHECK(p.kv_bytes == 4 * p.bytes_per_seq);
    CHECK(p.needed == p.weight_bytes + p.kv_bytes + p.scratch_bytes);
    CHECK_FALSE(p.has_verdict);

    in.memory = p.needed + (1ull << 20);
    in.reserve = 1ull << 20;
    p = plan_kv(m, in);
    CHECK(p.has_verdict);
    CHECK(p.fits);
    CHECK(p.margin == 0);
    CHECK(p.max_seqs_that_fit == 4);
    in.reserve += 1;
    p = plan_kv(m, in);
    CHECK_FALSE(p.fits);
    CHECK(p.margin == -1);
    CHECK(p.max_seqs_that_fit == 3);

    CHECK(format_kv_plan_text(p).find("DOES NOT FIT") != std::string::npos);
    auto j = nlohmann::json::parse(format_kv_plan_json(p));
    CHECK(j["kv_bytes_per_token"] == 640);
    CHECK(j["fits"] == false);
  }
}
