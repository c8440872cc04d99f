// GGUF loader tests: the real model files load with the expected metadata and tensors; every
// truncation of a real file and every corrupted count/length/offset gives a clean gguf_error.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <string>

#include "backends/engine/gguf.hpp"
#include "tests/unit/engine/test_data.hpp"

using namespace laneway::engine;
using laneway::engine::test::data_path;
using laneway::engine::test::read_bytes;

namespace {

gguf_file parse_bytes(std::vector<std::byte> bytes) {
  return gguf_file::parse(mapped_file::from_bytes(std::move(bytes), "mem.gguf"));
}

std::string error_of(std::vector<std::byte> bytes) {
  try {
    parse_bytes(std::move(bytes));
  } catch (const gguf_error& e) {
    return e.what();
  }
  return "";
}

void put_u64(std::vector<std::byte>& b, uint64_t off, uint64_t v) { std::memcpy(b.data() + off, &v, 8); }
void put_u32(std::vector<std::byte>& b, uint64_t off, uint32_t v) { std::memcpy(b.data() + off, &v, 4); }

}  // namespace

TEST_SUITE("engine") {
  TEST_CASE("gguf: real model files load with their metadata and tensors") {
    struct row {
      const char* file;
      std::size_t n_tensors;
      const char* arch;
      uint32_t embedding;
      tensor_type embd_type;
    };
    const row rows[] = {
        {"models/stories260K.gguf", 48, "llama", 64, tensor_type::f32},
        {"models/tinystories-656k-f32.gguf", 20, "llama", 128, tensor_type::f32},
        {"models/tinystories-656k-q8_0.gguf", 20, "llama", 128, tensor_type::q8_0},
        {"models/rand-qwen2-gpt2vocab-f16.gguf", 27, "qwen2", 64, tensor_type::f16},
        {"models/rand-llama-spmvocab-q4_0.gguf", 21, "llama", 64, tensor_type::q4_0},
    };
    for (const auto& r : rows) {
      SUBCASE(r.file) {
        const gguf_file f = gguf_file::open(data_path(r.file));
        CHECK(f.version() == 3);
        CHECK(f.tensors().size() == r.n_tensors);
        CHECK(f.get_string("general.architecture") == r.arch);
        CHECK(f.get_u32(std::string(r.arch) + ".embedding_length") == r.embedding);
        const gguf_tensor* embd = f.find_tensor("token_embd.weight");
        REQUIRE(embd != nullptr);
        CHECK(embd->n_dims == 2);
        CHECK(embd->ne[0] == r.embedding);
        CHECK(embd->ne[1] == f.get_string_array("tokenizer.ggml.tokens").size());
        CHECK(embd->type == r.embd_type);
        CHECK(f.data_offset() % f.alignment() == 0);
        for (const auto& t : f.tensors()) {
          CHECK(t.data >= f.bytes().data() + f.data_offset());
          CHECK(t.data + t.n_bytes <= f.bytes().data() + f.bytes().size());
        }
      }
    }
  }

  TEST_CASE("gguf: typed accessors check types and ranges") {
    const gguf_file f = gguf_file::open(data_path("tokenizer/ggml-vocab-llama-spm.gguf"));
    CHECK(f.tensors().empty());
    CHECK(f.get_string("tokenizer.ggml.model") == "llama");
    CHECK(f.get_u32("tokenizer.ggml.bos_token_id") == 1);
    CHECK(f.get_bool("tokenizer.ggml.add_bos_token"));
    CHECK(f.get_string_array("tokenizer.ggml.tokens").size() == 32000);
    CHECK(f.get_f32_array("tokenizer.ggml.scores").size() == 32000);
    CHECK(f.get_int_array("tokenizer.ggml.token_type")[0] == 2);
    CHECK(f.find_u32("no.such.key") == std::nullopt);
    SUBCASE("wrong type names the key") {
      CHECK_THROWS_WITH_AS(f.get_u32("tokenizer.ggml.model"), doctest::Contains("'tokenizer.ggml.model'"), gguf_error);
      CHECK_THROWS_WITH_AS(f.get_string("tokenizer.ggml.bos_token_id"), doctest::Contains("expected string"), gguf_error);
      CHECK_THROWS_WITH_AS(f.get_string_array("tokenizer.ggml.scores"), doctest::Contains("array of f32"), gguf_error);
      CHECK_THROWS_WITH_AS(f.get_f32("general.name"), doctest::Contains("'general.name'"), gguf_error);
    }
    SUBCASE("missing key") {
      CHECK_THROWS_WITH_AS(f.get_u32("llama.nope"), doctest::Contains("missing key 'llama.nope'"), gguf_error);
    }
  }

  TEST_CASE("gguf: tensor type table") {
    CHECK(traits(tensor_type::q4_k).block_bytes == 144);
    CHECK(traits(tensor_type::q6_k).block_bytes == 210);
    CHECK(traits(tensor_type::q8_0).block_size == 32);
    CHECK(find_tensor_type(3) == nullptr);
    CHECK(supported_tensor_types().find("BF16 (30)") != std::string::npos);
  }

  TEST_CASE("gguf: every truncation of a real file is a clean error") {
    const auto full = read_bytes(data_path("models/stories260K.gguf"));
    REQUIRE(full.size() > 100000);
    const gguf_file ok = parse_bytes(full);
    uint64_t tensors_end = 0;
    for (const auto& t : ok.tensors()) tensors_end = std::max(tensors_end, ok.data_offset() + t.offset + t.n_bytes);
    // Every offset through the metadata and tensor infos, then a stride through the data.
    std::vector<std::size_t> cuts;
    for (std::size_t n = 0; n < ok.data_offset() + 64; ++n) cuts.push_back(n);
    for (std::size_t n = ok.data_offset() + 64; n < tensors_end; n += 997) cuts.push_back(n);
    cuts.push_back(tensors_end - 1);
    std::size_t errors = 0;
    for (const std::size_t n : cuts) {
      std::vector<std::byte> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      const std::string err = error_of(std::move(cut));
      if (err.empty()) FAIL("truncation at " << n << " loaded without error");
      errors += !err.empty();
    }
    CHECK(errors == cuts.size());
    MESSAGE("truncations checked: " << cuts.size());
  }

  TEST_CASE("gguf: corrupted counts, lengths and offsets are named") {
    const auto full = read_bytes(data_path("models/stories260K.gguf"));
    const gguf_file ok = parse_bytes(full);
    const gguf_value* tokens = ok.find("tokenizer.ggml.tokens");
    REQUIRE(tokens != nullptr);
    const uint64_t tokens_count_at = tokens->offset + 4;  // after the u32 element type
    const gguf_tensor& last = ok.tensors().back();
    struct row {
      const char* what;
      uint64_t offset;
      uint64_t value;
      int width;
      const char* expect;
    };
    const row rows[] = {
        {"magic", 0, 0x12345678, 4, "bad magic"},
        {"version", 4, 2, 4, "unsupported GGUF version 2"},
        {"tensor count", 8, 1ull << 60, 8, "tensor count"},
        {"kv count", 16, 1ull << 40, 8, "key/value count"},
        {"first key length", 24, 1ull << 50, 8, "key #0 length"},
        {"token array count", tokens_count_at, 1ull << 59, 8, "'tokenizer.ggml.tokens': array count"},
        {"token array element type", tokens->offset, 9, 4, "nested arrays"},
        {"token array element type", tokens->offset, 77, 4, "unknown array element type 77"},
        {"first token length", tokens_count_at + 8, 1ull << 62, 8, "'tokenizer.ggml.tokens' element #0 length"},
    };
    for (const auto& r : rows) {
      SUBCASE(r.what) {
        auto bad = full;
        if (r.width == 8) put_u64(bad, r.offset, r.value); else put_u32(bad, r.offset, static_cast<uint32_t>(r.value));
        CHECK_THROWS_WITH_AS(parse_bytes(std::move(bad)), doctest::Contains(r.expect), gguf_error);
      }
    }
    SUBCASE("tensor info fields") {
      // Find the last tensor's info record: name string, n_dims, ne[], type, offset (at the end).
      std::string needle(last.name);
      const char* base = reinterpret_cast<const char*>(full.data());
      const std::string_view all(base, ok.data_offset());
      const auto name_at = all.rfind(needle);
      REQUIRE(name_at != std::string_view::npos);
      const uint64_t dims_at = name_at + needle.size();
      const uint64_t type_at = dims_at + 4 + 8 * last.n_dims;
      const uint64_t off_at = type_at + 4;
      auto bad = full;
      put_u32(bad, dims_at, 7);
      CHECK_THROWS_WITH_AS(parse_bytes(bad), doctest::Contains("n_dims 7 not in 1..4"), gguf_error);
      bad = full;
      put_u32(bad, type_at, 3);
      CHECK_THROWS_WITH_AS(parse_bytes(bad), doctest::Contains("unsupported tensor type 3 (supported: F32 (0)"), gguf_error);
      bad = full;
      put_u64(bad, off_at, last.offset + 4096);
      CHECK_THROWS_WITH_AS(parse_bytes(bad), doctest::Contains("runs past the end of the file"), gguf_error);
      bad = full;
      put_u64(bad, off_at, last.offset + 4);
      CHECK_THROWS_WITH_AS(parse_bytes(bad), doctest::Contains("not a multiple of the alignment"), gguf_error);
      bad = full;
      put_u64(bad, dims_at + 4, 0);
      CHECK_THROWS_WITH_AS(parse_bytes(bad), doctest::Contains("is zero or overflows"), gguf_error);
    }
  }

  TEST_CASE("gguf: random byte corruption never crashes") {
    const auto full = read_bytes(data_path("tokenizer/ggml-vocab-gpt-2.gguf"));
    std::mt19937 rng(1234);
    int errors = 0, loaded = 0;
    for (int iter = 0; iter < 300; ++iter) {
      auto bad = full;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k) {
        // Mostly the header and the first keys, where the counts and lengths live.
        const std::size_t at = rng() % 2 ? rng() % 512 : rng() % bad.size();
        bad[at] = static_cast<std::byte>(rng());
      }
      try {
        parse_bytes(std::move(bad));
        ++loaded;
      } catch (const gguf_error&) {
        ++errors;
      }
    }
    CHECK(errors + loaded == 300);
    CHECK(errors > 0);
  }

  TEST_CASE("gguf: missing file and empty file") {
    CHECK_THROWS_WITH_AS(gguf_file::open("/nonexistent/x.gguf"), doctest::Contains("/nonexistent/x.gguf"), gguf_error);
    CHECK_THROWS_WITH_AS(parse_bytes({}), doctest::Contains("empty"), gguf_error);
  }
}
