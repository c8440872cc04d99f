// matmul driver: picks the kernel set, quantizes the activation rows once, then splits the output
// rows into chunks that the pool's threads claim. Inside a chunk, tokens go in tiles: for each
// tile, every weight row of the chunk is dotted with every token of the tile (in tiles of a few
// rows x a few tokens where the kernel set has one), so a weight row is read from memory once per
// token tile.
#include "backends/cpu/matmul.hpp"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "backends/cpu/kernels.hpp"

namespace laneway::cpu {

namespace {

bool cpu_has_avx2() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("f16c");
#else
  return false;
#endif
}

const detail::kernel_set* kernels_for(isa i) {
  if (i == isa::avx2 && cpu_has_avx2()) return detail::avx2_kernels();
  if (i == isa::neon) return detail::neon_kernels();
  return nullptr;
}

isa initial_isa() {
  const char* env = std::getenv("LANEWAY_CPU_ISA");
  if (env && std::strcmp(env, "scalar") == 0) return isa::scalar;
  if (env && std::strcmp(env, "avx2") == 0 && kernels_for(isa::avx2)) return isa::avx2;
  if (env && std::strcmp(env, "neon") == 0 && kernels_for(isa::neon)) return isa::neon;
  return best_isa();
}

std::atomic<isa>& current_isa() {
  static std::atomic<isa> current{initial_isa()};
  return current;
}

const detail::kernel_set& active_kernels() {
  const detail::kernel_set* k = kernels_for(current_isa().load(std::memory_order_relaxed));
  return k ? *k : detail::scalar_kernels();
}

constexpr int64_t token_tile = 16;  // tokens per tile: 16 Q8_0 rows of 1024 = 17 KiB (L1/L2)

}  // namespace

const char* isa_name(isa i) {
  switch (i) {
    case isa::scalar: return "scalar";
    case isa::avx2: return "avx2";
    case isa::neon: return "neon";
  }
  return "?";
}

isa best_isa() {
  if (kernels_for(isa::avx2)) return isa::avx2;
  if (kernels_for(isa::neon)) return isa::neon;
  return isa::scalar;
}

isa active_isa() {
  const isa i = current_isa().load(std::memory_order_relaxed);
  return kernels_for(i) ? i : isa::scalar;
}

void force_isa(isa i) { current_isa().store(kernels_for(i) ? i : isa::scalar); }
void reset_isa() { current_isa().store(best_isa()); }

dtype activation_type(dtype t) {
  switch (t) {
    case dtype::q4_0: case dtype::q8_0: return dtype::q8_0;
    case dtype::q4_k: case dtype::q5_k: case dtype::q6_k: return dtype::q8_k;
    default: return dtype::f32;
  }
}

bool matmul_supports(dtype t) { return is_known(t) && t != dtype::q8_k; }

void matmul(const weight_view& w, const float* x, int64_t n_tokens, float* y, thread_pool& pool) {
  assert(matmul_supports(w.type) && w.n_in % traits(w.type).block_size == 0);
  const detail::kernel_set& ks = active_kernels();
  const detail::vec_dot_fn dot = ks.dot_for(w.type);
  const detail::dot_tile_fn dot_tile = ks.dot_tile_for(w.type);
  const int64_t rm = ks.tile_rows, rn = ks.tile_tokens;
  const int64_t n_in = w.n_in, n_out = w.n_out;
  const size_t w_stride = row_bytes(w.type, n_in);
  const auto* w_bytes = static_cast<const uint8_t*>(w.data);

  // xa: [n_tokens] rows of the activation format, x_stride bytes apart
  const dtype act = activation_type(w.type);
  const uint8_t* xa = reinterpret_cast<const uint8_t*>(x);
  size_t x_stride = static_cast<size_t>(n_in) * sizeof(float);
  if (act != dtype::f32) {
    thread_local std::vector<uint8_t> scratch;  // grows to the largest call, then is reused
    x_stride = row_bytes(act, n_in);
    if (scratch.size() < x_stride * static_cast<size_t>(n_tokens)) {
      scratch.resize(x_stride * static_cast<size_t>(n_tokens));
    }
    uint8_t* xq = scratch.data();
    auto quantize_token = [&](int64_t t) { quantize_row(act, x + t * n_in, xq + t * x_stride, n_in); };
    if (n_tokens >= 4) {
      pool.parallel_for(n_tokens, quantize_token);
    } else {
      for (int64_t t = 0; t < n_tokens; ++t) quantize_token(t);
    }
    xa = xq;
  }

  // Chunks of output rows: about 8 per thread for balance, at least 8 rows, even-sized.
  int64_t chunk = std::max<int64_t>(8, n_out / (8 * static_cast<int64_t>(pool.size())));
  chunk = (chunk + 3) / 4 * 4;  // whole row tiles (tile_rows divides 4)
  const int64_t n_chunks = (n_out + chunk - 1) / chunk;

  pool.parallel_for(n_chunks, [&](int64_t c) {
    const int64_t r0 = c * chunk, r1 = std::min(n_out, r0 + chunk);
    const int64_t tokens_per_tile = rn > 1 ? token_tile / rn * rn : token_tile;
    for (int64_t t0 = 0; t0 < n_tokens; t0 += tokens_per_tile) {
      const int64_t t1 = std::min(n_tokens, t0 + tokens_per_tile);
      int64_t r = r0;
      if (dot_tile && t1 - t0 >= rn) {
        for (; r + rm <= r1; r += rm) {
          const uint8_t* wr = w_bytes + r * w_stride;
          int64_t t = t0;
          for (; t + rn <= t1; t += rn) {
            dot_tile(n_in, wr, w_stride, xa + t * x_stride, x_stride, y + t * n_out + r, n_out);
          }
          for (; t < t1; ++t) {
            for (int64_t k = 0; k < rm; ++k) {
              y[t * n_out + r + k] = dot(n_in, wr + k * w_stride, xa + t * x_stride);
            }
          }
        }
      }
      for (; r < r1; ++r) {
        const uint8_t* wr = w_bytes + r * w_stride;
        for (int64_t t = t0; t < t1; ++t) y[t * n_out + r] = dot(n_in, wr, xa + t * x_stride);
      }
    }
  });
}

}  // namespace laneway::cpu
