// mkmodel tests: small models of every architecture and weight type load back through the GGUF
// loader with the hyper-parameter keys, the copied tokenizer keys and the tensor shapes/types the
// model loader expects; the same seed gives the same bytes (whatever the thread count), another
// seed other weights; the weights have the intended statistics; bad flags exit 2, bad vocab 1.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include "backends/cpu/quant_types.hpp"
#include "backends/engine/commands.hpp"
#include "backends/engine/gguf.hpp"
#include "backends/engine/mkmodel.hpp"
#include "tests/unit/engine/test_data.hpp"

using namespace laneway::engine;
using laneway::engine::test::data_path;
using laneway::engine::test::read_bytes;

namespace {

std::string temp_path(const std::string& name) {
  return "/tmp/laneway_mkmodel_" + std::to_string(::getpid()) + "_" + name + ".gguf";
}

mkmodel_options small(const std::string& arch, tensor_type type, const std::string& out) {
  mkmodel_options o;
  o.arch = arch;
  o.vocab_path = data_path("models/stories260K.gguf");  // a llama vocab of 512 tokens
  o.layers = 2;
  const bool k_quant = traits(type).block_size == 256;
  o.embd = k_quant ? 256 : 64;
  o.heads = 4;
  o.kv_heads = 2;
  o.head_dim = k_quant ? 64 : 32;  // qwen3-like: heads * head_dim need not be embd
  o.ff = k_quant ? 512 : 96;
  o.ctx = 512;
  o.type = type;
  o.seed = 42;
  o.out = out;
  return o;
}

void check_shape(const gguf_file& f, const std::string& name, tensor_type type, std::vector<uint64_t> ne) {
  CAPTURE(name);
  const gguf_tensor* t = f.find_tensor(name);
  REQUIRE(t != nullptr);
  CHECK(t->type == type);
  REQUIRE(t->n_dims == ne.size());
  for (std::size_t d = 0; d < ne.size(); ++d) CHECK(t->ne[d] == ne[d]);
}

int mkmodel_exit(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return mkmodel_command(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_SUITE("engine") {
  TEST_CASE("mkmodel: every architecture and type loads back with the expected keys and tensors") {
    const gguf_file vocab = gguf_file::open(data_path("models/stories260K.gguf"));
    for (const char* arch : {"llama", "qwen2", "qwen3"}) {
      for (const tensor_type type : {tensor_type::f32, tensor_type::f16, tensor_type::bf16, tensor_type::q8_0,
                                     tensor_type::q4_0, tensor_type::q4_k, tensor_type::q5_k, tensor_type::q6_k}) {
        CAPTURE(arch);
        CAPTURE(traits(type).name);
        const std::string path = temp_path(std::string(arch) + "_" + std::string(traits(type).name));
        mkmodel_options o = small(arch, type, path);
        o.tied = type == tensor_type::q8_0;
        REQUIRE_FALSE(resolve_mkmodel_options(o).has_value());
        const mkmodel_result r = make_random_model(o);
        CHECK(r.n_vocab == 512);

        const gguf_file f = gguf_file::open(path);
        CHECK(r.file_bytes == f.bytes().size());
        const std::string a = arch;
        CHECK(f.get_string("general.architecture") == a);
        CHECK(f.get_u32(a + ".embedding_length") == o.embd);
        CHECK(f.get_u32(a + ".block_count") == 2);
        CHECK(f.get_u32(a + ".feed_forward_length") == o.ff);
        CHECK(f.get_u32(a + ".attention.head_count") == 4);
        CHECK(f.get_u32(a + ".attention.head_count_kv") == 2);
        CHECK(f.get_u32(a + ".attention.key_length") == o.head_dim);
        CHECK(f.get_u32(a + ".context_length") == 512);
        CHECK(f.get_f32(a + ".rope.freq_base") > 0.0f);
        CHECK(f.get_f32(a + ".attention.layer_norm_rms_epsilon") > 0.0f);
        // every tokenizer key copied unchanged
        for (const auto& [key, value] : vocab.metadata()) {
          if (!key.starts_with("tokenizer.")) continue;
          CAPTURE(key);
          const gguf_value* v = f.find(key);
          REQUIRE(v != nullptr);
          CHECK(v->type == value.type);
          CHECK(v->count == value.count);
          CHECK(v->strings == value.strings);
          CHECK(v->str == value.str);
          CHECK(v->u == value.u);
        }
        const uint64_t e = static_cast<uint64_t>(o.embd), q = 4 * static_cast<uint64_t>(o.head_dim),
                       kv = 2 * static_cast<uint64_t>(o.head_dim), ff = static_cast<uint64_t>(o.ff);
        check_shape(f, "token_embd.weight", type, {e, 512});
        check_shape(f, "output_norm.weight", tensor_type::f32, {e});
        CHECK((f.find_tensor("output.weight") == nullptr) == o.tied);
        if (!o.tied) check_shape(f, "output.weight", type, {e, 512});
        for (int l = 0; l < 2; ++l) {
          const std::string p = "blk." + std::to_string(l) + ".";
          check_shape(f, p + "attn_norm.weight", tensor_type::f32, {e});
          check_shape(f, p + "attn_q.weight", type, {e, q});
          check_shape(f, p + "attn_k.weight", type, {e, kv});
          check_shape(f, p + "attn_v.weight", type, {e, kv});
          check_shape(f, p + "attn_output.weight", type, {q, e});
          check_shape(f, p + "ffn_norm.weight", tensor_type::f32, {e});
          check_shape(f, p + "ffn_gate.weight", type, {e, ff});
          check_shape(f, p + "ffn_up.weight", type, {e, ff});
          check_shape(f, p + "ffn_down.weight", type, {ff, e});
          const bool qwen2 = a == "qwen2", qwen3 = a == "qwen3";
          CHECK((f.find_tensor(p + "attn_q.bias") != nullptr) == qwen2);
          if (qwen2) {
            check_shape(f, p + "attn_q.bias", tensor_type::f32, {q});
            check_shape(f, p + "attn_k.bias", tensor_type::f32, {kv});
            check_shape(f, p + "attn_v.bias", tensor_type::f32, {kv});
          }
          CHECK((f.find_tensor(p + "attn_q_norm.weight") != nullptr) == qwen3);
          if (qwen3) {
            check_shape(f, p + "attn_q_norm.weight", tensor_type::f32, {static_cast<uint64_t>(o.head_dim)});
            check_shape(f, p + "attn_k_norm.weight", tensor_type::f32, {static_cast<uint64_t>(o.head_dim)});
          }
        }
        std::remove(path.c_str());
      }
    }
  }

  TEST_CASE("mkmodel: weights are normal(0, 0.02)-like, norms near 1") {
    const std::string path = temp_path("stats");
    mkmodel_options o = small("qwen3", tensor_type::f32, path);
    REQUIRE_FALSE(resolve_mkmodel_options(o).has_value());
    make_random_model(o);
    const gguf_file f = gguf_file::open(path);
    const gguf_tensor* w = f.find_tensor("token_embd.weight");
    REQUIRE(w != nullptr);
    const auto* x = reinterpret_cast<const float*>(w->data);
    double sum = 0, sq = 0;
    for (uint64_t i = 0; i < w->n_elements; ++i) sum += x[i], sq += double(x[i]) * x[i];
    const double mean = sum / double(w->n_elements), sd = std::sqrt(sq / double(w->n_elements) - mean * mean);
    CHECK(std::abs(mean) < 1e-3);
    CHECK(sd == doctest::Approx(0.02).epsilon(0.03));
    // rows differ from each other (no shifted copies of one stream)
    CHECK(std::memcmp(x, x + 64, 64 * sizeof(float)) != 0);
    CHECK(x[1] != x[64]);
    const gguf_tensor* n = f.find_tensor("blk.0.attn_norm.weight");
    const auto* nv = reinterpret_cast<const float*>(n->data);
    for (uint64_t i = 0; i < n->n_elements; ++i) CHECK(std::abs(nv[i] - 1.0f) < 0.15f);
    std::remove(path.c_str());
  }

  TEST_CASE("mkmodel: same seed, same bytes (any thread count); another seed, other weights") {
    const std::string a = temp_path("seed_a"), b = temp_path("seed_b"), c = temp_path("seed_c");
    mkmodel_options oa = small("qwen2", tensor_type::q4_k, a);
    oa.threads = 1;
    mkmodel_options ob = small("qwen2", tensor_type::q4_k, b);
    ob.threads = 3;
    mkmodel_options oc = small("qwen2", tensor_type::q4_k, c);
    oc.seed = 43;
    for (auto* o : {&oa, &ob, &oc}) {
      REQUIRE_FALSE(resolve_mkmodel_options(*o).has_value());
      make_random_model(*o);
    }
    const auto ba = read_bytes(a), bb = read_bytes(b), bc = read_bytes(c);
    CHECK(ba.size() > 100000);
    CHECK(ba == bb);
    REQUIRE(ba.size() == bc.size());  // same layout, other weights
    const gguf_file fa = gguf_file::open(a), fc = gguf_file::open(c);
    for (const auto& t : fa.tensors()) {
      CAPTURE(t.name);
      const gguf_tensor* u = fc.find_tensor(t.name);
      REQUIRE(u != nullptr);
      CHECK(std::memcmp(t.data, u->data, t.n_bytes) != 0);
    }
    for (const auto& p : {a, b, c}) std::remove(p.c_str());
  }

  TEST_CASE("mkmodel: a real gpt2 BPE vocab is copied with its merges") {
    const std::string path = temp_path("gpt2");
    mkmodel_options o = small("qwen2", tensor_type::q8_0, path);
    o.vocab_path = data_path("tokenizer/ggml-vocab-gpt-2.gguf");
    o.tied = true;
    REQUIRE_FALSE(resolve_mkmodel_options(o).has_value());
    const auto r = make_random_model(o);
    const gguf_file src = gguf_file::open(o.vocab_path), f = gguf_file::open(path);
    CHECK(r.n_vocab == static_cast<int64_t>(src.get_string_array("tokenizer.ggml.tokens").size()));
    CHECK(f.get_string("tokenizer.ggml.model") == "gpt2");
    const auto m1 = src.get_string_array("tokenizer.ggml.merges"), m2 = f.get_string_array("tokenizer.ggml.merges");
    REQUIRE(m1.size() == m2.size());
    CHECK(std::equal(m1.begin(), m1.end(), m2.begin()));
    CHECK(f.find_tensor("token_embd.weight")->ne[1] == static_cast<uint64_t>(r.n_vocab));
    std::remove(path.c_str());
  }

  TEST_CASE("mkmodel: option errors name the flag") {
    struct row {
      const char* expect;
      void (*set)(mkmodel_options&);
    };
    const row rows[] = {
        {"--arch", [](mkmodel_options& o) { o.arch = "gpt2"; }},
        {"--layers", [](mkmodel_options& o) { o.layers = 0; }},
        {"--kv-heads", [](mkmodel_options& o) { o.kv_heads = 3; }},
        {"--head-dim", [](mkmodel_options& o) { o.head_dim = 7; }},
        {"--embd = 64 is not a multiple of 256", [](mkmodel_options& o) { o.type = tensor_type::q4_k; }},
        {"--ff = 100 is not a multiple of 32", [](mkmodel_options& o) { o.ff = 100; }},
        {"--heads x --head-dim", [](mkmodel_options& o) { o.head_dim = 38; }},
    };
    for (const auto& r : rows) {
      mkmodel_options o = small("llama", tensor_type::q8_0, "/tmp/x.gguf");
      r.set(o);
      const auto e = resolve_mkmodel_options(o);
      REQUIRE(e.has_value());
      CHECK(e->find(r.expect) != std::string::npos);
    }
    CHECK(parse_weight_type("q4_k") == tensor_type::q4_k);
    CHECK(parse_weight_type("BF16") == tensor_type::bf16);
    CHECK_FALSE(parse_weight_type("Q2_K").has_value());
  }

  TEST_CASE("mkmodel command: exit 2 for bad flags, 1 for an unreadable vocab, 0 and a file otherwise") {
    const std::string out = temp_path("cmd");
    const std::string vocab = data_path("models/stories260K.gguf");
    CHECK(mkmodel_exit({"mkmodel", "--arch", "llama", "--vocab", vocab, "--layers", "1", "--embd", "64", "--type",
                       "Q9_9", "-o", out}) == 2);
    CHECK(mkmodel_exit({"mkmodel", "--arch", "mamba", "--vocab", vocab, "--layers", "1", "--embd", "64", "-o", out}) == 2);
    CHECK(mkmodel_exit({"mkmodel", "--arch", "llama", "--vocab", vocab, "--embd", "64", "-o", out}) == 2);  // no --layers
    CHECK(mkmodel_exit({"mkmodel", "--arch", "llama", "--vocab", vocab, "--layers", "1", "--embd", "64", "--type",
                       "Q4_K", "-o", out}) == 2);
    CHECK(mkmodel_exit({"mkmodel", "--arch", "llama", "--vocab", "/nonexistent/vocab.gguf", "--layers", "1", "--embd",
                       "64", "-o", out}) == 1);
    CHECK(mkmodel_exit({"mkmodel", "--arch", "llama", "--vocab", data_path("golden/../tokenizer/ggml-vocab-gpt-2.gguf.inp"),
                       "--layers", "1", "--embd", "64", "-o", out}) == 1);  // not a GGUF file
    CHECK_FALSE(std::filesystem::exists(out));  // nothing left behind
    CHECK_FALSE(std::filesystem::exists(out + ".tmp"));
    CHECK(mkmodel_exit({"mkmodel", "--arch", "llama", "--vocab", vocab, "--layers", "1", "--embd", "64", "--type",
                       "F16", "--seed", "5", "-o", out}) == 0);
    const gguf_file f = gguf_file::open(out);
    CHECK(f.find_tensor("blk.0.ffn_up.weight")->type == tensor_type::f16);
    std::remove(out.c_str());
  }
}
