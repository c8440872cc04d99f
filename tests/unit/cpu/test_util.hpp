// Helpers shared by the CPU kernel tests: seeded random data and the normalized error metric.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace laneway::cpu::test {

// [n] values ~ N(0, sigma), deterministic per seed
inline std::vector<float> random_vector(size_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// ||a - b|| / ||b|| (0 when both are zero)
inline double normalized_error(const float* a, const float* b, size_t n) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < n; ++i) {
    num += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    den += static_cast<double>(b[i]) * b[i];
  }
  if (den == 0.0) return num == 0.0 ? 0.0 : INFINITY;
  return std::sqrt(num / den);
}
inline double normalized_error(const std::vector<float>& a, const std::vector<float>& b) {
  return normalized_error(a.data(), b.data(), b.size());
}

}  // namespace laneway::cpu::test
