// Model loading: hyper-parameters and weights of the real files, tied output, qwen2 biases, and
// clear errors for files the forward pass cannot run (vocab-only, other architectures, bad shapes).
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "backends/engine/model.hpp"
#include "tests/unit/engine/test_data.hpp"

using namespace laneway::engine;
using laneway::engine::test::data_path;
using laneway::engine::test::read_bytes;

namespace {

// Error text of loading these bytes as a model ("" when it loads).
std::string load_error(std::vector<std::byte> bytes) {
  try {
    model m(gguf_file::parse(mapped_file::from_bytes(std::move(bytes), "mem.gguf")));
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// Replaces the first occurrence of `from` at or after the text `after` with `to` (same length).
void patch(std::vector<std::byte>& b, std::string_view after, std::string_view from, std::string_view to) {
  REQUIRE(from.size() == to.size());
  const std::string_view text(reinterpret_cast<const char*>(b.data()), b.size());
  const auto key = text.find(after);
  REQUIRE(key != std::string_view::npos);
  const auto at = text.find(from, key);
  REQUIRE(at != std::string_view::npos);
  std::memcpy(b.data() + at, to.data(), to.size());
}

}  // namespace

TEST_SUITE("engine") {
  TEST_CASE("model: hyper-parameters and weights of the real files") {
    const model s = model::open(data_path("models/stories260K.gguf"));
    const auto& hp = s.hparams();
    CHECK(hp.arch == model_arch::llama);
    CHECK(hp.n_vocab == 512);
    CHECK(hp.n_embd == 64);
    CHECK(hp.n_layer == 5);
    CHECK(hp.n_head == 8);
    CHECK(hp.n_head_kv == 4);
    CHECK(hp.head_dim == 8);
    CHECK(hp.n_ff == 172);
    CHECK(hp.rope == laneway::cpu::rope_mode::normal);
    CHECK(hp.rope_freq_base == 10000.0f);
    CHECK_FALSE(s.tied_output());
    CHECK(s.layers().size() == 5);
    CHECK(s.layers()[0].bq == nullptr);
    CHECK(s.main_type() == laneway::cpu::dtype::f32);

    const model t = model::open(data_path("models/tinystories-656k-q8_0.gguf"));
    CHECK(t.tied_output());
    CHECK(t.output().data == t.token_embd().data);
    CHECK(t.main_type() == laneway::cpu::dtype::q8_0);

    const model q = model::open(data_path("models/rand-qwen2-gpt2vocab-f16.gguf"));
    CHECK(q.hparams().arch == model_arch::qwen2);
    CHECK(q.hparams().rope == laneway::cpu::rope_mode::neox);
    CHECK(q.layers()[1].bq != nullptr);
    CHECK(q.layers()[1].bk != nullptr);
    CHECK(q.layers()[1].wk.n_out == 32);
    CHECK(q.main_type() == laneway::cpu::dtype::f16);

    // Weights are views into the mapping, not copies.
    const auto bytes = s.file().bytes();
    const auto* w = static_cast<const std::byte*>(s.layers()[0].wq.data);
    CHECK(w >= bytes.data());
    CHECK(w < bytes.data() + bytes.size());
  }

  TEST_CASE("model: a vocab-only file is rejected with a clear error") {
    try {
      model::open(data_path("tokenizer/ggml-vocab-llama-spm.gguf"));
      FAIL("loaded a vocab-only file as a model");
    } catch (const gguf_error& e) {
      const std::string msg = e.what();
      INFO(msg);
      CHECK(msg.find("ggml-vocab-llama-spm.gguf") != std::string::npos);
      CHECK((msg.find("missing") != std::string::npos || msg.find("not a model") != std::string::npos));
    }
  }

  TEST_CASE("model: unsupported architecture names what is supported") {
    auto b = read_bytes(data_path("models/stories260K.gguf"));
    patch(b, "general.architecture", "llama", "mamba");
    const std::string msg = load_error(std::move(b));
    CHECK(msg.find("unsupported architecture 'mamba'") != std::string::npos);
    CHECK(msg.find("llama, qwen2, qwen3") != std::string::npos);
  }

  TEST_CASE("model: a missing tensor is named; unknown keys are ignored") {
    auto b = read_bytes(data_path("models/tinystories-656k-f32.gguf"));
    patch(b, "blk.1.attn_q", "attn_q", "attn_x");
    const std::string msg = load_error(std::move(b));
    CHECK(msg.find("missing tensor 'blk.1.attn_q.weight'") != std::string::npos);

    auto c = read_bytes(data_path("models/stories260K.gguf"));
    patch(c, "llama.rope.dimension_count", "dimension_count", "dimension_coun2");  // harmless key
    CHECK(load_error(c).empty());
  }

  TEST_CASE("model: shape mismatch error lists both shapes") {
    auto b = read_bytes(data_path("models/stories260K.gguf"));
    // Swap the names of attn_k (64 x 32) and attn_q (64 x 64) of block 0.
    patch(b, "blk.0.attn_q.weight", "attn_q", "attn_t");
    patch(b, "blk.0.attn_k.weight", "attn_k", "attn_q");
    const std::string msg = load_error(std::move(b));
    INFO(msg);
    CHECK(msg.find("tensor 'blk.0.attn_q.weight' has shape [64, 32], expected [64, 64]") != std::string::npos);
  }
}
