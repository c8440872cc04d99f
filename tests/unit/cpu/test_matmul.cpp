// The fast matmul against ref::matmul for every weight type, shape class, kernel set (every one
// this CPU can run: avx512, avx2, scalar on x86-64) and thread count. Two oracles: the fp32 activations (error bounded by the
// activation quantization) and the same activations quantized the way matmul does (then the
// integer kernels must agree with the reference up to float rounding).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "backends/cpu/matmul.hpp"
#include "backends/cpu/reference.hpp"
#include "tests/unit/cpu/test_util.hpp"

using namespace laneway::cpu;

namespace {

struct type_case {
  dtype t;
  double bound_fp32_x;  // vs the reference with unquantized activations
};
const type_case k_types[] = {
    // quantized: Q8 activations cost ~0.6% on Gaussian data (more on a 3-value output)
    {dtype::f32, 1e-5},  {dtype::f16, 1e-5},  {dtype::bf16, 1e-5}, {dtype::q8_0, 2e-2},
    {dtype::q4_0, 2e-2}, {dtype::q4_k, 2e-2}, {dtype::q5_k, 2e-2}, {dtype::q6_k, 2e-2},
};
constexpr double k_bound_same_x = 2e-5;  // vs the reference with the same quantized activations

struct quantized_weights {
  std::vector<uint8_t> bytes;
  weight_view view;
};

// A random [n_out, n_in] matrix stored as type t.
quantized_weights make_weights(dtype t, int64_t n_out, int64_t n_in, uint32_t seed) {
  const auto w = test::random_vector(static_cast<size_t>(n_out * n_in), seed, 0.5f);
  quantized_weights q;
  const size_t stride = row_bytes(t, n_in);
  q.bytes.resize(stride * static_cast<size_t>(n_out));
  for (int64_t o = 0; o < n_out; ++o) quantize_row(t, w.data() + o * n_in, q.bytes.data() + o * stride, n_in);
  q.view = weight_view{t, q.bytes.data(), n_out, n_in};
  return q;
}

// x: [n_tokens, n_in] -> the same after quantize/dequantize in matmul's activation format
std::vector<float> as_matmul_sees_it(dtype weight_type, const std::vector<float>& x, int64_t n_in) {
  const dtype act = activation_type(weight_type);
  if (act == dtype::f32) return x;
  std::vector<float> out(x.size());
  std::vector<uint8_t> q(row_bytes(act, n_in));
  for (size_t t = 0; t < x.size() / static_cast<size_t>(n_in); ++t) {
    quantize_row(act, x.data() + t * n_in, q.data(), n_in);
    dequantize_row(act, q.data(), out.data() + t * n_in, n_in);
  }
  return out;
}

}  // namespace

TEST_SUITE("cpu") {
TEST_CASE("matmul: fast path vs reference, every type x shape x isa x threads") {
  thread_pool pool1(1), pool2(2), pool3(3);
  thread_pool* pools[] = {&pool1, &pool2, &pool3};
  const int64_t n_ins[] = {32, 256, 4096, 37};
  const int64_t n_outs[] = {1, 7, 33};
  const int64_t n_tokens_list[] = {1, 3, 17};
  const std::vector<isa> isas = available_isas();
  int checked = 0;
  for (const auto& tc : k_types) {
    SUBCASE(traits(tc.t).name) {
      for (int64_t n_in : n_ins) {
        if (n_in % traits(tc.t).block_size != 0) continue;
        for (int64_t n_out : n_outs) {
          const auto w = make_weights(tc.t, n_out, n_in, static_cast<uint32_t>(n_in * 131 + n_out));
          for (int64_t n_tokens : n_tokens_list) {
            const auto x = test::random_vector(static_cast<size_t>(n_tokens * n_in),
                                               static_cast<uint32_t>(n_tokens * 7 + n_in));
            const auto xq = as_matmul_sees_it(tc.t, x, n_in);
            std::vector<float> y_ref(static_cast<size_t>(n_tokens * n_out));
            std::vector<float> y_ref_q(y_ref.size());
            ref::matmul(w.view, x.data(), n_tokens, y_ref.data());
            ref::matmul(w.view, xq.data(), n_tokens, y_ref_q.data());
            for (isa i : isas) {
              force_isa(i);
              for (thread_pool* pool : pools) {
                CAPTURE(n_in);
                CAPTURE(n_out);
                CAPTURE(n_tokens);
                CAPTURE(std::string(isa_name(active_isa())));
                CAPTURE(pool->size());
                std::vector<float> y(y_ref.size(), -1.0f);
                matmul(w.view, x.data(), n_tokens, y.data(), *pool);
                CHECK(test::normalized_error(y, y_ref) <= tc.bound_fp32_x);
                CHECK(test::normalized_error(y, y_ref_q) <= k_bound_same_x);
                ++checked;
              }
            }
          }
        }
      }
    }
  }
  reset_isa();
  CHECK(checked > 0);
}

TEST_CASE("matmul: a single wrong weight row is detected") {
  // Guards the test itself: corrupting one block must push the error far past the bound.
  const int64_t n_in = 256, n_out = 8, n_tokens = 2;
  auto w = make_weights(dtype::q8_0, n_out, n_in, 7);
  const auto x = test::random_vector(static_cast<size_t>(n_tokens * n_in), 3);
  std::vector<float> y_ref(static_cast<size_t>(n_tokens * n_out)), y(y_ref.size());
  ref::matmul(w.view, x.data(), n_tokens, y_ref.data());
  w.bytes[row_bytes(dtype::q8_0, n_in) * 5 + 10] ^= 0x40;  // flip a quant bit in row 5
  thread_pool pool(2);
  matmul(w.view, x.data(), n_tokens, y.data(), pool);
  CHECK(test::normalized_error(y, y_ref) > 1e-2);
}

TEST_CASE("matmul: prefill-sized batches, two threads, every kernel set") {
  // 40 tokens: whole and partial token tiles; 150 x 20: more than one 128-token block of the
  // packed-panel loop, 2 whole panels + 4 rows; 2 tokens: the smallest panel call.
  const int64_t shapes[][3] = {{1024, 96, 40}, {256, 20, 150}, {512, 16, 2}};  // n_in, n_out, n_tokens
  const dtype types[] = {dtype::q8_0, dtype::q4_0, dtype::q4_k, dtype::q6_k, dtype::f16};
  thread_pool pool(2);
  for (const auto& shape : shapes) {
    const int64_t n_in = shape[0], n_out = shape[1], n_tokens = shape[2];
    for (dtype t : types) {
      const auto w = make_weights(t, n_out, n_in, 11);
      const auto x = test::random_vector(static_cast<size_t>(n_tokens * n_in), 5);
      const auto xq = as_matmul_sees_it(t, x, n_in);
      std::vector<float> y_ref(static_cast<size_t>(n_tokens * n_out)), y(y_ref.size());
      ref::matmul(w.view, xq.data(), n_tokens, y_ref.data());
      for (isa i : available_isas()) {
        force_isa(i);
        CAPTURE(traits(t).name);
        CAPTURE(std::string(isa_name(i)));
        CAPTURE(n_tokens);
        std::fill(y.begin(), y.end(), -1.0f);
        matmul(w.view, x.data(), n_tokens, y.data(), pool);
        CHECK(test::normalized_error(y, y_ref) <= k_bound_same_x);
      }
    }
  }
  reset_isa();
}

TEST_CASE("matmul_multi: several matrices of one input equal separate matmuls") {
  // q/k/v-like (same type), gate/up-like, and a mixed set whose activation formats differ.
  const int64_t n_in = 256;
  const std::vector<std::vector<std::pair<dtype, int64_t>>> sets = {
      {{dtype::q8_0, 64}, {dtype::q8_0, 24}, {dtype::q8_0, 24}},
      {{dtype::q4_0, 40}, {dtype::q4_0, 40}},
      {{dtype::q8_0, 16}, {dtype::q4_k, 9}, {dtype::f16, 8}, {dtype::q6_k, 33}},
      {{dtype::q8_0, 8}, {dtype::q8_0, 9}, {dtype::q4_0, 8}, {dtype::q8_0, 1}, {dtype::q8_0, 16},
       {dtype::q4_0, 3}, {dtype::q8_0, 8}, {dtype::q8_0, 24}, {dtype::q4_0, 8}, {dtype::q8_0, 5}},  // > 8
  };
  thread_pool pool(2);
  for (int64_t n_tokens : {1, 3, 9}) {
    const auto x = test::random_vector(static_cast<size_t>(n_tokens * n_in), 17);
    for (const auto& set : sets) {
      std::vector<quantized_weights> ws;
      for (const auto& [t, n_out] : set) ws.push_back(make_weights(t, n_out, n_in, static_cast<uint32_t>(n_out)));
      for (isa i : available_isas()) {
        force_isa(i);
        CAPTURE(std::string(isa_name(i)));
        CAPTURE(n_tokens);
        std::vector<std::vector<float>> y_multi, y_single;
        std::vector<matmul_out> outs;
        for (const auto& w : ws) {
          y_multi.emplace_back(static_cast<size_t>(n_tokens * w.view.n_out), -1.0f);
          y_single.emplace_back(y_multi.back().size(), -2.0f);
        }
        for (size_t k = 0; k < ws.size(); ++k) outs.push_back({ws[k].view, y_multi[k].data()});
        matmul_multi(outs, x.data(), n_tokens, pool);
        for (size_t k = 0; k < ws.size(); ++k) {
          matmul(ws[k].view, x.data(), n_tokens, y_single[k].data(), pool);
          CAPTURE(traits(ws[k].view.type).name);
          CHECK(y_multi[k] == y_single[k]);  // same kernels, same order: bit-identical
        }
      }
    }
  }
  reset_isa();
}

TEST_CASE("isa selection") {
  force_isa(isa::scalar);
  CHECK(active_isa() == isa::scalar);
  reset_isa();
  CHECK(active_isa() == best_isa());
  const std::vector<isa> all = available_isas();
  CHECK(all.front() == best_isa());
  CHECK(all.back() == isa::scalar);
  for (isa i : all) {
    force_isa(i);
    CHECK(active_isa() == i);
  }
  reset_isa();
#if defined(__x86_64__)
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  CHECK(best_isa() == (avx512 ? isa::avx512 : avx2 ? isa::avx2 : isa::scalar));
  CHECK(std::count(all.begin(), all.end(), isa::avx2) == (avx2 ? 1 : 0));
  if (!avx512) {
    force_isa(isa::avx512);  // unavailable: falls back to scalar
    CHECK(active_isa() == isa::scalar);
    reset_isa();
  }
#endif
  CHECK(activation_type(dtype::q4_0) == dtype::q8_0);
  CHECK(activation_type(dtype::q6_k) == dtype::q8_k);
  CHECK(activation_type(dtype::bf16) == dtype::f32);
  CHECK_FALSE(matmul_supports(dtype::q8_k));
  CHECK(matmul_supports(dtype::q5_k));
}
}
