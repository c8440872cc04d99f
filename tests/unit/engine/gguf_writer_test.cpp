// GGUF writer tests: every value type and tensor type written, then read back by the loader with
// identical metadata and tensor bytes; a real model file copied key by key and tensor by tensor
// comes back identical; misuse (bad block multiple, short data, duplicate keys) is an error.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

#include "backends/engine/gguf.hpp"
#include "backends/engine/gguf_writer.hpp"
#include "tests/unit/engine/test_data.hpp"

using namespace laneway::engine;
using laneway::engine::test::data_path;

namespace {

std::string temp_path(const char* name) {
  return "/tmp/laneway_gguf_writer_" + std::to_string(::getpid()) + "_" + name + ".gguf";
}

std::size_t element_bytes(gguf_value_type t) {
  switch (t) {
    case gguf_value_type::u8: case gguf_value_type::i8: case gguf_value_type::boolean: return 1;
    case gguf_value_type::u16: case gguf_value_type::i16: return 2;
    case gguf_value_type::u32: case gguf_value_type::i32: case gguf_value_type::f32: return 4;
    default: return 8;
  }
}

void check_same_value(std::string_view key, const gguf_value& a, const gguf_value& b) {
  CAPTURE(key);
  REQUIRE(a.type == b.type);
  CHECK(a.u == b.u);
  CHECK(a.i == b.i);
  CHECK(((a.f == b.f) || (a.f != a.f && b.f != b.f)));
  CHECK(a.str == b.str);
  if (a.type == gguf_value_type::array) {
    REQUIRE(a.element_type == b.element_type);
    REQUIRE(a.count == b.count);
    if (a.element_type == gguf_value_type::string) {
      CHECK(a.strings == b.strings);
    } else {
      CHECK(std::memcmp(a.elements, b.elements, a.count * element_bytes(a.element_type)) == 0);
    }
  }
}

}  // namespace

TEST_SUITE("engine") {
  TEST_CASE("gguf writer: every value type and tensor type reads back identically") {
    for (const uint32_t alignment : {32u, 64u, 0u}) {  // 0: default, no general.alignment key
      CAPTURE(alignment);
      const std::string path = temp_path("all");
      gguf_writer w;
      if (alignment) w.set_alignment(alignment);
      w.add_u8("t.u8", 200);
      w.add_i8("t.i8", -100);
      w.add_u16("t.u16", 60000);
      w.add_i16("t.i16", -30000);
      w.add_u32("t.u32", 4000000000u);
      w.add_i32("t.i32", -2000000000);
      w.add_f32("t.f32", 1.5f);
      w.add_bool("t.bool", true);
      w.add_string("t.string", "héllo, \"world\"\n");
      w.add_string("t.empty", "");
      w.add_u64("t.u64", 1ull << 60);
      w.add_i64("t.i64", -(1ll << 60));
      w.add_f64("t.f64", 2.25);
      const std::vector<std::string> strs{"a", "", "ĠĠ", "<|im_end|>"};
      w.add_string_array("t.strings", std::span<const std::string>(strs));
      const int32_t ints[] = {1, -2, 3};
      w.add_array("t.i32s", gguf_value_type::i32, 3, ints);
      const float floats[] = {0.5f, -0.25f};
      w.add_array("t.f32s", gguf_value_type::f32, 2, floats);
      const uint8_t bools[] = {1, 0, 1, 1};
      w.add_array("t.bools", gguf_value_type::boolean, 4, bools);
      w.add_array("t.none", gguf_value_type::u64, 0, nullptr);

      struct spec {
        const char* name;
        tensor_type type;
        std::vector<uint64_t> ne;
      };
      const std::vector<spec> specs{
          {"f32", tensor_type::f32, {3}},          {"f16", tensor_type::f16, {5, 3}},
          {"bf16", tensor_type::bf16, {2, 2, 2}},  {"q8_0", tensor_type::q8_0, {64, 3}},
          {"q4_0", tensor_type::q4_0, {32, 1, 1, 2}}, {"q4_k", tensor_type::q4_k, {256, 2}},
          {"q5_k", tensor_type::q5_k, {512}},      {"q6_k", tensor_type::q6_k, {256, 1}},
      };
      std::vector<std::vector<std::byte>> data;
      for (const auto& s : specs) {
        const std::size_t i = w.add_tensor(s.name, s.type, s.ne);
        std::vector<std::byte> bytes(w.tensor_bytes(i));
        for (std::size_t b = 0; b < bytes.size(); ++b) bytes[b] = static_cast<std::byte>((b * 31 + i * 7) & 0xFF);
        data.push_back(std::move(bytes));
      }
      w.open(path);
      for (std::size_t i = 0; i < data.size(); ++i) {
        // in uneven chunks, to cross tensor ends inside one write for the last two
        if (i + 2 == data.size()) {
          std::vector<std::byte> both = data[i];
          both.insert(both.end(), data[i + 1].begin(), data[i + 1].end());
          w.write_data(std::span<const std::byte>(both).subspan(0, 7));
          w.write_data(std::span<const std::byte>(both).subspan(7));
          break;
        }
        w.write_data(data[i]);
      }
      w.close();

      const gguf_file f = gguf_file::open(path);
      CHECK(f.version() == 3);
      CHECK(f.alignment() == (alignment ? alignment : 32));
      CHECK(f.data_offset() % f.alignment() == 0);
      CHECK(f.get_u32("t.u32") == 4000000000u);
      CHECK(f.get_i32("t.i32") == -2000000000);
      CHECK(f.find("t.u8")->u == 200);
      CHECK(f.find("t.i8")->i == -100);
      CHECK(f.find("t.u16")->u == 60000);
      CHECK(f.find("t.i16")->i == -30000);
      CHECK(f.get_f32("t.f32") == 1.5f);
      CHECK(f.get_bool("t.bool"));
      CHECK(f.get_string("t.string") == "héllo, \"world\"\n");
      CHECK(f.get_string("t.empty").empty());
      CHECK(f.get_u64("t.u64") == 1ull << 60);
      CHECK(f.find("t.i64")->i == -(1ll << 60));
      CHECK(f.find("t.f64")->f == 2.25);
      const auto got = f.get_string_array("t.strings");
      REQUIRE(got.size() == strs.size());
      for (std::size_t i = 0; i < strs.size(); ++i) CHECK(got[i] == strs[i]);
      CHECK(f.get_int_array("t.i32s") == std::vector<int64_t>{1, -2, 3});
      CHECK(f.get_f32_array("t.f32s") == std::vector<float>{0.5f, -0.25f});
      CHECK(f.find("t.bools")->count == 4);
      CHECK(f.find("t.none")->count == 0);
      CHECK(f.metadata().size() == 18 + (alignment ? 1 : 0));

      REQUIRE(f.tensors().size() == specs.size());
      for (std::size_t i = 0; i < specs.size(); ++i) {
        const gguf_tensor& t = f.tensors()[i];
        CAPTURE(specs[i].name);
        CHECK(t.name == specs[i].name);
        CHECK(t.type == specs[i].type);
        CHECK(t.n_dims == specs[i].ne.size());
        for (std::size_t d = 0; d < specs[i].ne.size(); ++d) CHECK(t.ne[d] == specs[i].ne[d]);
        CHECK(t.offset % f.alignment() == 0);
        REQUIRE(t.n_bytes == data[i].size());
        CHECK(std::memcmp(t.data, data[i].data(), t.n_bytes) == 0);
      }
      std::remove(path.c_str());
    }
  }

  TEST_CASE("gguf writer: a real model copied key by key and tensor by tensor is the same file") {
    for (const char* rel : {"models/rand-qwen2-gpt2vocab-f16.gguf", "models/tinystories-656k-q8_0.gguf"}) {
      CAPTURE(rel);
      const gguf_file src = gguf_file::open(data_path(rel));
      const std::string path = temp_path("copy");
      gguf_writer w;
      for (const auto& [key, value] : src.metadata()) {
        if (key == "general.alignment") {
          w.set_alignment(static_cast<uint32_t>(value.u));
          continue;
        }
        w.copy(key, value);
      }
      for (const auto& t : src.tensors())
        w.add_tensor(t.name, t.type, std::span<const uint64_t>(t.ne.data(), t.n_dims));
      w.open(path);
      for (const auto& t : src.tensors()) w.write_data({t.data, t.n_bytes});
      w.close();

      const gguf_file out = gguf_file::open(path);
      REQUIRE(out.metadata().size() == src.metadata().size());
      for (std::size_t i = 0; i < src.metadata().size(); ++i) {
        CHECK(out.metadata()[i].first == src.metadata()[i].first);
        check_same_value(src.metadata()[i].first, src.metadata()[i].second, out.metadata()[i].second);
      }
      REQUIRE(out.tensors().size() == src.tensors().size());
      for (std::size_t i = 0; i < src.tensors().size(); ++i) {
        const auto& a = src.tensors()[i];
        const auto& b = out.tensors()[i];
        CHECK(a.name == b.name);
        CHECK(a.type == b.type);
        CHECK(a.ne == b.ne);
        REQUIRE(a.n_bytes == b.n_bytes);
        CHECK(std::memcmp(a.data, b.data, a.n_bytes) == 0);
      }
      std::remove(path.c_str());
    }
  }

  TEST_CASE("gguf writer: misuse is an error naming the problem") {
    gguf_writer w;
    w.add_u32("k", 1);
    CHECK_THROWS_WITH_AS(w.add_u32("k", 2), doctest::Contains("added twice"), gguf_write_error);
    const uint64_t bad_ne[] = {100, 2};
    CHECK_THROWS_WITH_AS(w.add_tensor("w", tensor_type::q4_k, bad_ne), doctest::Contains("multiple of the"),
                         gguf_write_error);
    CHECK_THROWS_AS(w.set_alignment(48), gguf_write_error);
    const uint64_t ne[] = {32};
    w.add_tensor("x", tensor_type::f32, ne);
    const std::string path = temp_path("short");
    w.open(path);
    std::vector<std::byte> part(100);
    w.write_data(part);
    CHECK_THROWS_WITH_AS(w.close(), doctest::Contains("got 100 of its 128 bytes"), gguf_write_error);
    gguf_writer bad;
    CHECK_THROWS_WITH_AS(bad.open("/nonexistent-dir/x.gguf"), doctest::Contains("cannot create"), gguf_write_error);
    std::remove(path.c_str());
  }
}
