// Helpers for the model / forward / golden tests: the model files in ../shared/data/models,
// greedy argmax, log-softmax and the normalized error ||a - b|| / ||b|| of a row.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "tests/unit/engine/test_data.hpp"

namespace laneway::engine::test {

inline std::vector<std::string> model_files() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(data_path("models"))) {
    if (e.path().extension() == ".gguf") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::string stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

inline int32_t argmax(std::span<const float> row) {
  return static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
}

inline std::vector<double> log_softmax(std::span<const float> row) {
  const double mx = *std::max_element(row.begin(), row.end());
  double sum = 0;
  for (float v : row) sum += std::exp(v - mx);
  const double lse = mx + std::log(sum);
  std::vector<double> out(row.size());
  for (std::size_t i = 0; i < row.size(); ++i) out[i] = row[i] - lse;
  return out;
}

inline double normalized_error(std::span<const float> a, std::span<const float> b) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    den += double(b[i]) * b[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

}  // namespace laneway::engine::test
