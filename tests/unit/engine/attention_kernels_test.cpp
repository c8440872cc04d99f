// The attention kernel sets (backends/engine/forward_attention.hpp): the AVX2 set gives the same
// bits as the plain loops on an f16 cache (both follow the peer's flash-attention roundings), and
// on an f32 cache both agree with a two-pass double softmax. Run lengths, head sizes (incl. not a
// multiple of 8 or 32) and GQA groups vary; the running max rises mid-run.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backends/cpu/quant_types.hpp"
#include "backends/engine/forward_attention.hpp"

using namespace laneway;
using namespace laneway::engine::detail;

namespace {

struct rows {
  std::vector<std::byte> bytes;  // n rows of d values, f32 or f16
  kv_run run;
};

rows make_rows(const std::vector<float>& v, int32_t n, int64_t d, cpu::dtype type) {
  rows r;
  const std::size_t w = type == cpu::dtype::f16 ? 2 : 4;
  r.bytes.resize(static_cast<std::size_t>(n * d) * w);
  for (int64_t i = 0; i < n * d; ++i) {
    if (type == cpu::dtype::f16) {
      const uint16_t h = cpu::fp32_to_fp16(v[static_cast<std::size_t>(i)]);
      std::memcpy(r.bytes.data() + i * 2, &h, 2);
    } else {
      std::memcpy(r.bytes.data() + i * 4, &v[static_cast<std::size_t>(i)], 4);
    }
  }
  r.run = kv_run{r.bytes.data(), static_cast<std::size_t>(d) * w, 0, n, type};
  return r;
}

// The V weights and rescales of online softmax over scores x[0, n) (as forward_attention.cpp).
float online(std::vector<float>& x, std::vector<float>& r) {
  float m = -INFINITY, sum = 0.0f;
  for (std::size_t i = 0; i < x.size(); ++i) {
    float ms = 1.0f, vs = 1.0f;
    if (x[i] > m) {
      ms = std::exp(m - x[i]);
      m = x[i];
    } else {
      vs = std::exp(x[i] - m);
    }
    x[i] = vs;
    r[i] = ms;
    sum = sum * ms + vs;
  }
  return sum;
}

// out: [group, d] = attention of q over the rows with kernel set ks (one run).
std::vector<float> attend(const attend_kernels& ks, const std::vector<float>& q, int64_t group, int64_t d,
                          const rows& k, const rows& v, float scale) {
  const int32_t n = k.run.n;
  std::vector<float> w(static_cast<std::size_t>(group * n)), r(w.size()), tmp(static_cast<std::size_t>(d));
  std::vector<float> out(static_cast<std::size_t>(group * d), 0.0f);
  ks.score(q.data(), group, d, k.run, scale, w.data(), n, tmp.data());
  std::vector<float> sums(static_cast<std::size_t>(group));
  for (int64_t g = 0; g < group; ++g) {
    std::vector<float> x(w.begin() + g * n, w.begin() + (g + 1) * n), rg(x.size());
    sums[static_cast<std::size_t>(g)] = online(x, rg);
    std::copy(x.begin(), x.end(), w.begin() + g * n);
    std::copy(rg.begin(), rg.end(), r.begin() + g * n);
  }
  ks.accumulate(w.data(), r.data(), n, group, d, v.run, out.data(), tmp.data());
  for (int64_t g = 0; g < group; ++g) {
    for (int64_t j = 0; j < d; ++j) out[static_cast<std::size_t>(g * d + j)] /= sums[static_cast<std::size_t>(g)];
  }
  return out;
}

}  // namespace

TEST_SUITE("engine") {
  TEST_CASE("attention kernels: AVX2 equals the plain loops bit for bit, both match a double softmax") {
    const attend_kernels* avx2 = avx2_attend_kernels();
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (int64_t d : {8, 16, 20, 40, 64, 128}) {
      for (int64_t group : {1, 3}) {
        for (int32_t n : {1, 5, 37}) {
          CAPTURE(d);
          CAPTURE(group);
          CAPTURE(n);
          std::vector<float> q(static_cast<std::size_t>(group * d)), kv(static_cast<std::size_t>(n * d)),
              vv(kv.size());
          for (float& x : q) x = cpu::fp16_to_fp32(cpu::fp32_to_fp16(normal(rng)));  // f16-valued, as attend() passes
          for (int32_t i = 0; i < n; ++i) {  // later keys grow: the running max rises mid-run
            for (int64_t j = 0; j < d; ++j) kv[static_cast<std::size_t>(i * d + j)] = normal(rng) * (1.0f + 0.05f * i);
          }
          for (float& x : vv) x = normal(rng);
          const float scale = 1.0f / std::sqrt(static_cast<float>(d));
          for (cpu::dtype type : {cpu::dtype::f16, cpu::dtype::f32}) {
            const rows k = make_rows(kv, n, d, type), v = make_rows(vv, n, d, type);
            const auto plain = attend(plain_attend_kernels(), q, group, d, k, v, scale);
            if (avx2 && type == cpu::dtype::f16) {
              CHECK(attend(*avx2, q, group, d, k, v, scale) == plain);
            }
            // the definition: softmax(scale q.k) v in double on the stored K/V
            std::vector<float> kd(kv.size()), vd(vv.size());
            cpu::dequantize_row(type, k.bytes.data(), kd.data(), n * d);
            cpu::dequantize_row(type, v.bytes.data(), vd.data(), n * d);
            double worst = 0;
            for (int64_t g = 0; g < group; ++g) {
              std::vector<double> s(static_cast<std::size_t>(n));
              double mx = -INFINITY, sum = 0;
              for (int32_t i = 0; i < n; ++i) {
                double dot = 0;
                for (int64_t j = 0; j < d; ++j) dot += double(q[static_cast<std::size_t>(g * d + j)]) * kd[static_cast<std::size_t>(i * d + j)];
                s[static_cast<std::size_t>(i)] = dot * scale;
                mx = std::max(mx, s[static_cast<std::size_t>(i)]);
              }
              for (double& x : s) sum += x = std::exp(x - mx);
              for (int64_t j = 0; j < d; ++j) {
                double o = 0;
                for (int32_t i = 0; i < n; ++i) o += s[static_cast<std::size_t>(i)] * vd[static_cast<std::size_t>(i * d + j)];
                worst = std::max(worst, std::abs(o / sum - plain[static_cast<std::size_t>(g * d + j)]));
              }
            }
            // f32: float rounding only; f16: the f16 accumulator (11-bit mantissa, values ~1)
            CHECK(worst < (type == cpu::dtype::f16 ? 1e-2 : 1e-5));
            if (avx2 && type == cpu::dtype::f32) {
              const auto fast = attend(*avx2, q, group, d, k, v, scale);
              for (std::size_t j = 0; j < fast.size(); ++j) CHECK(std::abs(fast[j] - plain[j]) < 1e-5f);
            }
          }
        }
      }
    }
  }
}
