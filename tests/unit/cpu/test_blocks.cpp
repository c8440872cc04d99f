// Dequantization of hand-built blocks with values worked out by hand from the GGUF layouts, so
// the block layouts are pinned to the file format and not just self-consistent.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstring>

#include "backends/cpu/quant_types.hpp"

using namespace laneway::cpu;

namespace {
// Scales {1, 2, 3, 4, 33, 45, 63, 17} and mins {0, 1, 2, 3, 40, 50, 60, 7}, packed by hand:
// bytes 0-3 = scale[j] | (scale[j+4] >> 4) << 6, bytes 4-7 = min[j] | (min[j+4] >> 4) << 6,
// bytes 8-11 = (scale[j+4] & 15) | (min[j+4] & 15) << 4.
const uint8_t k_scales[12] = {129, 130, 195, 68, 128, 193, 194, 3, 129, 45, 207, 113};
const uint8_t k_scale[8] = {1, 2, 3, 4, 33, 45, 63, 17};
const uint8_t k_min[8] = {0, 1, 2, 3, 40, 50, 60, 7};

// qs[i] = (i % 16) | (15 - i % 16) << 4
void fill_k_nibbles(uint8_t* qs) {
  for (int i = 0; i < 128; ++i) qs[i] = static_cast<uint8_t>((i % 16) | ((15 - i % 16) << 4));
}

struct expect { int index; float value; };
}  // namespace

TEST_SUITE("cpu") {
TEST_CASE("block layouts: field offsets as stored in GGUF") {
  CHECK(offsetof(block_q8_0, qs) == 2);
  CHECK(offsetof(block_q4_0, qs) == 2);
  CHECK(offsetof(block_q4_k, dmin) == 2);
  CHECK(offsetof(block_q4_k, scales) == 4);
  CHECK(offsetof(block_q4_k, qs) == 16);
  CHECK(offsetof(block_q5_k, qh) == 16);
  CHECK(offsetof(block_q5_k, qs) == 48);
  CHECK(offsetof(block_q6_k, qh) == 128);
  CHECK(offsetof(block_q6_k, scales) == 192);
  CHECK(offsetof(block_q6_k, d) == 208);
  CHECK(offsetof(block_q8_k, qs) == 4);
  CHECK(offsetof(block_q8_k, bsums) == 260);
}

TEST_CASE("Q8_0 and Q4_0 hand-built blocks") {
  SUBCASE("Q8_0: x = d * q") {
    block_q8_0 b{};
    b.d = 0x3800;  // 0.5
    for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(j - 16);
    float y[32];
    dequantize_row(dtype::q8_0, &b, y, 32);
    for (int j = 0; j < 32; ++j) CHECK(y[j] == 0.5f * (j - 16));
  }
  SUBCASE("Q4_0: low nibbles are values 0-15, high nibbles 16-31") {
    block_q4_0 b{};
    b.d = 0x4000;  // 2.0
    for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    float y[32];
    dequantize_row(dtype::q4_0, &b, y, 32);
    for (int j = 0; j < 16; ++j) {
      CHECK(y[j] == 2.0f * (j - 8));
      CHECK(y[j + 16] == 2.0f * (7 - j));
    }
  }
}

TEST_CASE("K-quant 6-bit scale/min packing") {
  for (int j = 0; j < 8; ++j) {
    uint8_t sc = 0, m = 0;
    get_scale_min_k4(j, k_scales, &sc, &m);
    CAPTURE(j);
    CHECK(sc == k_scale[j]);
    CHECK(m == k_min[j]);
  }
  uint8_t packed[12];
  pack_scale_min_k4(k_scale, k_min, packed);
  CHECK(std::memcmp(packed, k_scales, 12) == 0);
}

TEST_CASE("Q4_K hand-built block: x = d*scale*q - dmin*min") {
  block_q4_k b{};
  b.d = 0x3C00;     // 1.0
  b.dmin = 0x3800;  // 0.5
  std::memcpy(b.scales, k_scales, 12);
  fill_k_nibbles(b.qs);
  float y[256];
  dequantize_row(dtype::q4_k, &b, y, 256);
  const expect cases[] = {
      {0, 0.0f},      // sub 0, qs[0] low = 0
      {33, 27.5f},    // sub 1, qs[1] high = 14: 2*14 - 0.5*1
      {130, 46.0f},   // sub 4, qs[66] low = 2: 33*2 - 0.5*40
      {200, 474.0f},  // sub 6, qs[104] low = 8: 63*8 - 0.5*60
      {255, -3.5f},   // sub 7, qs[127] high = 0: 0 - 0.5*7
  };
  for (const auto& c : cases) {
    CAPTURE(c.index);
    CHECK(y[c.index] == c.value);
  }
}

TEST_CASE("Q5_K hand-built block: fifth bit of sub-block j is bit j of qh[l]") {
  block_q5_k b{};
  b.d = 0x3C00;
  b.dmin = 0x3800;
  std::memcpy(b.scales, k_scales, 12);
  fill_k_nibbles(b.qs);
  for (int l = 0; l < 32; ++l) b.qh[l] = (l % 2) ? 0xAA : 0x55;
  float y[256];
  dequantize_row(dtype::q5_k, &b, y, 256);
  const expect cases[] = {
      {0, 16.0f},     // sub 0, l 0: nibble 0, qh[0] = 0x55 bit 0 set -> 16
      {1, 1.0f},      // sub 0, l 1: nibble 1, qh[1] = 0xAA bit 0 clear
      {33, 59.5f},    // sub 1, l 1: nibble 14, qh[1] bit 1 set -> 30: 2*30 - 0.5
      {130, 574.0f},  // sub 4, l 2: nibble 2, qh[2] bit 4 set -> 18: 33*18 - 20
      {255, 268.5f},  // sub 7, l 31: nibble 0, qh[31] bit 7 set -> 16: 17*16 - 3.5
  };
  for (const auto& c : cases) {
    CAPTURE(c.index);
    CHECK(y[c.index] == c.value);
  }
}

TEST_CASE("Q6_K hand-built block: x = d*scale*(q - 32)") {
  block_q6_k b{};
  for (int i = 0; i < 128; ++i) b.ql[i] = static_cast<uint8_t>(i);
  for (int i = 0; i < 64; ++i) b.qh[i] = 0xE4;  // 2-bit fields 0, 1, 2, 3 from the bottom
  for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<int8_t>(j - 8);
  b.d = 0x3800;  // 0.5
  float y[256];
  dequantize_row(dtype::q6_k, &b, y, 256);
  const expect cases[] = {
      {0, 128.0f},   // ql[0] low 0, qh bits 0-1 = 0 -> q 0 - 32; scale[0] = -8
      {45, 9.0f},    // ql[45] low 13, qh bits 2-3 = 1 -> 29 - 32; scale[2] = -6
      {77, 0.0f},    // ql[13] high 0, qh bits 4-5 = 2 -> 32 - 32
      {100, -18.0f}, // ql[36] high 2, qh bits 6-7 = 3 -> 50 - 32; scale[6] = -2
      {200, 8.0f},   // half 1: ql[72] high 4, qh bits 4-5 = 2 -> 36 - 32; scale[12] = 4
      {255, 80.5f},  // half 1: ql[127] high 7, qh bits 6-7 = 3 -> 55 - 32; scale[15] = 7
  };
  for (const auto& c : cases) {
    CAPTURE(c.index);
    CHECK(y[c.index] == c.value);
  }
}

TEST_CASE("Q8_K quantization keeps the 16-value sums") {
  float x[256];
  for (int i = 0; i < 256; ++i) x[i] = static_cast<float>((i * 37) % 101) - 50.0f;
  block_q8_k b{};
  quantize_row(dtype::q8_k, x, &b, 256);
  CHECK(b.d == doctest::Approx(50.0f / 127.0f));
  for (int j = 0; j < 16; ++j) {
    int sum = 0;
    for (int l = 0; l < 16; ++l) sum += b.qs[16 * j + l];
    CHECK(b.bsums[j] == sum);
  }
}
}
