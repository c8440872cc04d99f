// The SIMD activation quantizers matmul uses (quantize_activation_row) must be bit-identical to
// the scalar quantize_row of the same type on every kernel set: random rows, rows with ties for
// the largest magnitude, all-zero blocks, tiny (fp16-subnormal scale) and large values.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "backends/cpu/matmul.hpp"
#include "tests/unit/cpu/test_util.hpp"

using namespace laneway::cpu;

namespace {

// A few rows of n values that exercise the quantizers' corner cases, block by block.
std::vector<std::vector<float>> tricky_rows(int64_t n) {
  std::vector<std::vector<float>> rows;
  for (float sigma : {1.0f, 1e-6f, 3e4f}) rows.push_back(test::random_vector(static_cast<size_t>(n), 7, sigma));
  auto r = test::random_vector(static_cast<size_t>(n), 9);
  for (int64_t i = 0; i < n; i += 64) std::fill(r.begin() + i, r.begin() + std::min(n, i + 32), 0.0f);  // zero blocks
  rows.push_back(r);
  auto ties = test::random_vector(static_cast<size_t>(n), 11);
  for (int64_t i = 0; i + 40 < n; i += 32) {  // +a then -a (and the reverse): the first one decides
    const float a = 5.0f + static_cast<float>(i % 3);
    ties[i + 3] = (i / 32) % 2 ? a : -a;
    ties[i + 17] = -ties[i + 3];
  }
  rows.push_back(ties);
  auto halves = test::random_vector(static_cast<size_t>(n), 13);
  for (auto& v : halves) v = static_cast<float>(static_cast<int>(v * 8)) / 2.0f + 0.5f;  // x.5 after scaling
  rows.push_back(halves);
  return rows;
}

}  // namespace

TEST_SUITE("cpu") {
TEST_CASE("activation quantizers: SIMD output is bit-identical to quantize_row") {
  int compared = 0;
  for (dtype act : {dtype::q8_0, dtype::q8_k}) {
    for (int64_t n : {256, 1024, 3072}) {
      for (const auto& x : tricky_rows(n)) {
        std::vector<uint8_t> want(row_bytes(act, n)), got(want.size(), 0xAA);
        quantize_row(act, x.data(), want.data(), n);
        for (isa i : available_isas()) {
          force_isa(i);
          CAPTURE(std::string(isa_name(i)));
          CAPTURE(traits(act).name);
          CAPTURE(n);
          std::fill(got.begin(), got.end(), uint8_t{0xAA});
          quantize_activation_row(act, x.data(), got.data(), n);
          CHECK(std::memcmp(got.data(), want.data(), want.size()) == 0);
          ++compared;
        }
      }
    }
  }
  reset_isa();
  CHECK(compared > 0);
}
}
