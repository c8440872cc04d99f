// fp16 / bf16 conversion edge cases, type traits, and quantize -> dequantize round trips.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "backends/cpu/quant_types.hpp"
#include "tests/unit/cpu/test_util.hpp"

using namespace laneway::cpu;

namespace {
uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
}  // namespace

TEST_SUITE("cpu") {
TEST_CASE("fp16 to fp32: known encodings") {
  struct row { uint16_t h; float f; };
  const row rows[] = {
      {0x0000, 0.0f},           {0x3C00, 1.0f},          {0xC000, -2.0f},
      {0x3555, 0.333251953125f}, {0x7BFF, 65504.0f},      {0x0400, std::ldexp(1.0f, -14)},
      {0x0001, std::ldexp(1.0f, -24)}, {0x03FF, std::ldexp(1023.0f, -24)},
      {0x8001, -std::ldexp(1.0f, -24)}, {0x7C00, INFINITY}, {0xFC00, -INFINITY},
  };
  for (const auto& r : rows) {
    CAPTURE(r.h);
    CHECK(fp16_to_fp32(r.h) == r.f);
  }
  CHECK(std::signbit(fp16_to_fp32(0x8000)));
  CHECK(std::isnan(fp16_to_fp32(0x7E00)));
  CHECK(std::isnan(fp16_to_fp32(0x7C01)));
}

TEST_CASE("fp32 to fp16: rounding, overflow, subnormals") {
  struct row { float f; uint16_t h; };
  const row rows[] = {
      {1.0f, 0x3C00},
      {65504.0f, 0x7BFF},
      {65519.0f, 0x7BFF},                             // below the halfway point
      {65520.0f, 0x7C00},                             // halfway to 65536 rounds (to even) to inf
      {1e6f, 0x7C00},
      {-1e6f, 0xFC00},
      {std::ldexp(1.0f, -24), 0x0001},                // smallest subnormal
      {std::ldexp(1.0f, -25), 0x0000},                // tie with zero -> even (zero)
      {std::ldexp(1.5f, -25), 0x0001},                // above the tie
      {std::ldexp(3.0f, -25), 0x0002},                // 1.5 units: tie -> even (2)
      {std::ldexp(1.0f, -14), 0x0400},                // smallest normal
      {std::ldexp(1023.5f, -24), 0x0400},             // rounds up into the smallest normal
      {1.0f + std::ldexp(1.0f, -11), 0x3C00},         // tie -> even (1.0)
      {1.0f + std::ldexp(3.0f, -11), 0x3C02},         // tie -> even (1 + 2^-9)
      {1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20), 0x3C01},  // just above the tie
      {INFINITY, 0x7C00},
      {-INFINITY, 0xFC00},
      {-0.0f, 0x8000},
  };
  for (const auto& r : rows) {
    CAPTURE(r.f);
    CHECK(fp32_to_fp16(r.f) == r.h);
  }
  const uint16_t nan = fp32_to_fp16(std::numeric_limits<float>::quiet_NaN());
  CHECK((nan & 0x7C00) == 0x7C00);
  CHECK((nan & 0x03FF) != 0);
}

TEST_CASE("fp16 and bf16: every encoding round-trips exactly") {
  for (uint32_t h = 0; h < 65536; ++h) {
    const auto v = static_cast<uint16_t>(h);
    const float f16 = fp16_to_fp32(v), b16 = bf16_to_fp32(v);
    if (std::isnan(f16)) {
      CHECK(std::isnan(fp16_to_fp32(fp32_to_fp16(f16))));
    } else if (fp32_to_fp16(f16) != v) {
      FAIL("fp16 " << h << " does not round-trip");
    }
    if (std::isnan(b16)) {
      CHECK(std::isnan(bf16_to_fp32(fp32_to_bf16(b16))));
    } else if (fp32_to_bf16(b16) != v) {
      FAIL("bf16 " << h << " does not round-trip");
    }
  }
}

TEST_CASE("fp32 to bf16: rounding and specials") {
  CHECK(fp32_to_bf16(1.0f) == 0x3F80);
  CHECK(bf16_to_fp32(0x3F80) == 1.0f);
  CHECK(bits(bf16_to_fp32(0xC0490000 >> 16)) == 0xC0490000u);
  CHECK(fp32_to_bf16(1.0f + std::ldexp(1.0f, -8)) == 0x3F80);  // tie -> even
  CHECK(fp32_to_bf16(1.0f + std::ldexp(3.0f, -8)) == 0x3F82);  // tie -> even
  CHECK(fp32_to_bf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)) == 0x3F81);
  CHECK(fp32_to_bf16(std::numeric_limits<float>::max()) == 0x7F80);  // rounds to inf
  CHECK(fp32_to_bf16(INFINITY) == 0x7F80);
  CHECK(fp32_to_bf16(-0.0f) == 0x8000);
  CHECK(fp32_to_bf16(std::ldexp(1.0f, -133)) == 0x0001);  // bf16 subnormal
  const uint16_t nan = fp32_to_bf16(std::numeric_limits<float>::quiet_NaN());
  CHECK(std::isnan(bf16_to_fp32(nan)));
  uint32_t snan_bits = 0x7F800001u;  // a nan whose payload lies in the dropped half
  float snan;
  std::memcpy(&snan, &snan_bits, 4);
  CHECK(std::isnan(bf16_to_fp32(fp32_to_bf16(snan))));
}

TEST_CASE("type traits and row sizes") {
  struct row { dtype t; int64_t block; size_t bytes; const char* name; };
  const row rows[] = {
      {dtype::f32, 1, 4, "f32"},       {dtype::f16, 1, 2, "f16"},       {dtype::bf16, 1, 2, "bf16"},
      {dtype::q4_0, 32, 18, "q4_0"},   {dtype::q8_0, 32, 34, "q8_0"},   {dtype::q4_k, 256, 144, "q4_k"},
      {dtype::q5_k, 256, 176, "q5_k"}, {dtype::q6_k, 256, 210, "q6_k"}, {dtype::q8_k, 256, 292, "q8_k"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    CHECK(is_known(r.t));
    CHECK(traits(r.t).block_size == r.block);
    CHECK(traits(r.t).block_bytes == r.bytes);
    CHECK(std::string(traits(r.t).name) == r.name);
    CHECK(row_bytes(r.t, 1024) == static_cast<size_t>(1024 / r.block) * r.bytes);
  }
  CHECK_FALSE(is_known(static_cast<dtype>(3)));
  CHECK(static_cast<uint32_t>(dtype::bf16) == 30);
  CHECK(static_cast<uint32_t>(dtype::q6_k) == 14);
}

TEST_CASE("quantize -> dequantize round trip stays within the type's error bound") {
  struct row { dtype t; double bound; };
  const row rows[] = {
      {dtype::f32, 0.0},    {dtype::f16, 5e-4},   {dtype::bf16, 4e-3}, {dtype::q8_0, 1e-2},
      {dtype::q4_0, 0.12},  {dtype::q4_k, 0.10},  {dtype::q5_k, 0.05}, {dtype::q6_k, 0.025},
      {dtype::q8_k, 1e-2},
  };
  const int64_t n = 4096;
  const auto x = test::random_vector(n, 42);
  for (const auto& r : rows) {
    SUBCASE(traits(r.t).name) {
      std::vector<uint8_t> q(row_bytes(r.t, n));
      std::vector<float> back(n);
      quantize_row(r.t, x.data(), q.data(), n);
      dequantize_row(r.t, q.data(), back.data(), n);
      const double err = test::normalized_error(back, x);
      MESSAGE(std::string(traits(r.t).name) << " round-trip error " << err);
      CHECK(err <= r.bound);
      // zeros stay zeros (no division by a zero scale)
      std::vector<float> zeros(n, 0.0f);
      quantize_row(r.t, zeros.data(), q.data(), n);
      dequantize_row(r.t, q.data(), back.data(), n);
      for (float v : back) REQUIRE(v == 0.0f);
    }
  }
}
}
