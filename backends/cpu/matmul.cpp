// matmul driver: picks the kernel set, quantizes the activation rows once, then splits the output
// rows of every matrix into chunks that the pool's threads claim (matmul_multi: the chunks of
// several matrices in one parallel_for). Inside a chunk, one of three loops runs:
//  - packed panels (AVX-512, Q8_0/Q4_0, n_tokens >= panel_min_tokens): 8 rows at a time are
//    re-laid-out into a panel, which then meets every token of the call, panel_tokens at a time;
//  - token tiles: for each tile of tokens, every weight row of the chunk is dotted with every
//    token of the tile (tiles of a few rows x a few tokens where the kernel set has them), so a
//    weight row is read from memory once per token tile;
//  - one token (decode): one dot per row.
#include "backends/cpu/matmul.hpp"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "backends/cpu/kernels.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace laneway::cpu {

namespace {

// F16C from CPUID leaf 1 (ECX bit 29): clang 14's __builtin_cpu_supports does not know "f16c".
bool cpu_has_f16c() {
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
#else
  return false;
#endif
}

bool cpu_has_avx2() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
#else
  return false;
#endif
}

bool cpu_has_avx512() {
#if defined(__x86_64__)
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

const detail::kernel_set* kernels_for(isa i) {
  if (i == isa::avx512 && cpu_has_avx512()) return detail::avx512_kernels();
  if (i == isa::avx2 && cpu_has_avx2()) return detail::avx2_kernels();
  if (i == isa::neon) return detail::neon_kernels();
  return nullptr;
}

isa initial_isa() {
  const char* env = std::getenv("LANEWAY_CPU_ISA");
  if (env) {
    for (isa i : {isa::scalar, isa::avx2, isa::avx512, isa::neon}) {
      if (std::strcmp(env, isa_name(i)) == 0 && (i == isa::scalar || kernels_for(i))) return i;
    }
  }
  return best_isa();
}

std::atomic<isa>& current_isa() {
  static std::atomic<isa> current{initial_isa()};
  return current;
}

constexpr int64_t token_tile = 16;        // tokens per tile: 16 Q8_0 rows of 1024 = 17 KiB (L1/L2)
constexpr int64_t panel_min_tokens = 2;   // fewer: one dot per row beats packing a panel
constexpr int64_t panel_token_block = 128;  // packed activations of a block stay in L2
constexpr size_t max_outs = 8;
// Fewer activation values than this are quantized by the caller alone: a pool sync (~2-5 us,
// far more when a worker is descheduled) costs more than quantizing 8 tokens of 1024 (~2 us).
constexpr int64_t parallel_quantize_values = 32 * 1024;

// A 64-byte-aligned view of a thread-local buffer of at least `bytes`, grown once then reused.
uint8_t* aligned_scratch(std::vector<uint8_t>& buf, size_t bytes) {
  if (buf.size() < bytes + 64) buf.resize(bytes + 64);
  const auto p = reinterpret_cast<uintptr_t>(buf.data());
  return buf.data() + ((64 - p % 64) % 64);
}

// The activation rows in the formats the kernels read.
struct activations {
  const uint8_t* rows;     // [n_tokens] rows of the activation format, stride bytes apart
  size_t stride;
  const uint8_t* packed;   // [n_tokens] packed rows for the panel kernels, or nullptr
  size_t packed_stride;
};

// One matrix of a matmul_multi call and how its rows are split.
struct plan {
  weight_view w;
  float* y;
  detail::vec_dot_fn dot;
  detail::dot_tile_fn dot_tile;
  detail::pack_panel_fn pack;  // non-null: the panel loop
  size_t w_stride;
  int64_t chunk;               // rows per chunk, a multiple of 8
  int64_t first_task;          // this matrix's chunks are tasks [first_task, first_task + n_chunks)
};

// Rows [r0, r1) of p for every token, by packed panels; the rows past the last whole panel by dots.
void run_panels(const detail::kernel_set& ks, const plan& p, const activations& a, int64_t n_tokens,
                int64_t r0, int64_t r1) {
  const int64_t n_in = p.w.n_in, n_out = p.w.n_out, pr = ks.panel_rows, pt = ks.panel_tokens;
  const auto* w = static_cast<const uint8_t*>(p.w.data);
  thread_local std::vector<uint8_t> panel_buf;
  uint8_t* panel = aligned_scratch(panel_buf, ks.panel_bytes(n_in));
  for (int64_t tb = 0; tb < n_tokens; tb += panel_token_block) {
    const int64_t te = std::min(n_tokens, tb + panel_token_block);
    int64_t r = r0;
    for (; r + pr <= r1; r += pr) {
      p.pack(n_in, w + r * p.w_stride, p.w_stride, panel);
      // the first tile prefetches the next panel's rows (within this chunk)
      const int64_t next_rows = std::clamp<int64_t>(r1 - (r + pr), 0, pr);
      const uint8_t* next = next_rows > 0 ? w + (r + pr) * p.w_stride : nullptr;
      for (int64_t t = tb; t < te; t += pt) {
        ks.panel_tile(n_in, panel, a.packed + t * a.packed_stride, a.packed_stride, std::min(pt, te - t),
                      p.y + t * n_out + r, n_out, t == tb ? next : nullptr, p.w_stride * next_rows);
      }
    }
    for (; r < r1; ++r) {
      for (int64_t t = tb; t < te; ++t) p.y[t * n_out + r] = p.dot(n_in, w + r * p.w_stride, a.rows + t * a.stride);
    }
  }
}

// Rows [r0, r1) of p for every token, in token tiles (see the top of the file).
void run_tiles(const detail::kernel_set& ks, const plan& p, const activations& a, int64_t n_tokens,
               int64_t r0, int64_t r1) {
  const int64_t rm = ks.tile_rows, rn = ks.tile_tokens;
  const int64_t n_in = p.w.n_in, n_out = p.w.n_out;
  const auto* w_bytes = static_cast<const uint8_t*>(p.w.data);
  const uint8_t* xa = a.rows;
  const size_t w_stride = p.w_stride, x_stride = a.stride;
  float* y = p.y;
  const int64_t tokens_per_tile = rn > 1 ? token_tile / rn * rn : token_tile;
  for (int64_t t0 = 0; t0 < n_tokens; t0 += tokens_per_tile) {
    const int64_t t1 = std::min(n_tokens, t0 + tokens_per_tile);
    int64_t r = r0;
    if (p.dot_tile && t1 - t0 >= rn) {
      for (; r + rm <= r1; r += rm) {
        const uint8_t* wr = w_bytes + r * w_stride;
        int64_t t = t0;
        for (; t + rn <= t1; t += rn) {
          p.dot_tile(n_in, wr, w_stride, xa + t * x_stride, x_stride, y + t * n_out + r, n_out);
        }
        for (; t < t1; ++t) {
          for (int64_t k = 0; k < rm; ++k) y[t * n_out + r + k] = p.dot(n_in, wr + k * w_stride, xa + t * x_stride);
        }
      }
    }
    for (; r < r1; ++r) {
      const uint8_t* wr = w_bytes + r * w_stride;
      for (int64_t t = t0; t < t1; ++t) y[t * n_out + r] = p.dot(n_in, wr, xa + t * x_stride);
    }
  }
}

// outs all share one activation format (act).
void matmul_same_format(std::span<const matmul_out> outs, dtype act, const float* x, int64_t n_tokens,
                        thread_pool& pool) {
  const detail::kernel_set& ks = detail::active_kernels();
  const int64_t n_in = outs[0].w.n_in;
  const bool panels_possible = ks.panel_tile && n_tokens >= panel_min_tokens;

  plan plans[max_outs];
  int64_t n_tasks = 0;
  bool any_panel = false;
  for (size_t i = 0; i < outs.size(); ++i) {
    const weight_view& w = outs[i].w;
    assert(matmul_supports(w.type) && w.n_in == n_in && n_in % traits(w.type).block_size == 0);
    plan& p = plans[i];
    p.w = w;
    p.y = outs[i].y;
    p.dot = ks.dot_for(w.type);
    p.dot_tile = ks.dot_tile_for(w.type);
    p.pack = panels_possible ? ks.pack_panel_for(w.type) : nullptr;
    any_panel = any_panel || p.pack;
    p.w_stride = row_bytes(w.type, n_in);
    // About 8 chunks per thread for balance (the pool hands them out dynamically), >= 8 rows.
    p.chunk = std::max<int64_t>(8, w.n_out / (8 * static_cast<int64_t>(pool.size())));
    p.chunk = (p.chunk + 7) / 8 * 8;  // whole panels and row tiles (tile_rows divides 8)
    p.first_task = n_tasks;
    n_tasks += (w.n_out + p.chunk - 1) / p.chunk;
  }

  // a: the activation rows (f32 rows as they are, else quantized, and packed for panels)
  activations a{reinterpret_cast<const uint8_t*>(x), static_cast<size_t>(n_in) * sizeof(float), nullptr, 0};
  if (act != dtype::f32) {
    thread_local std::vector<uint8_t> quantized, packed;  // grow to the largest call, then reused
    a.stride = row_bytes(act, n_in);
    uint8_t* xq = aligned_scratch(quantized, a.stride * static_cast<size_t>(n_tokens));
    uint8_t* xp = nullptr;
    if (any_panel) {
      a.packed_stride = ks.packed_x_bytes(n_in);
      xp = aligned_scratch(packed, a.packed_stride * static_cast<size_t>(n_tokens));
    }
    const detail::quantize_fn quantize = ks.quantize_for(act);
    auto prepare_token = [&](int64_t t) {
      if (quantize) {
        quantize(x + t * n_in, xq + t * a.stride, n_in);
      } else {
        quantize_row(act, x + t * n_in, xq + t * a.stride, n_in);
      }
      if (xp) ks.pack_x(n_in, xq + t * a.stride, xp + t * a.packed_stride);
    };
    if (n_tokens * n_in >= parallel_quantize_values) {
      pool.parallel_for(n_tokens, prepare_token);
    } else {
      for (int64_t t = 0; t < n_tokens; ++t) prepare_token(t);
    }
    a.rows = xq;
    a.packed = xp;
  }

  pool.parallel_for(n_tasks, [&](int64_t task) {
    size_t i = 0;
    while (i + 1 < outs.size() && task >= plans[i + 1].first_task) ++i;
    const plan& p = plans[i];
    const int64_t r0 = (task - p.first_task) * p.chunk, r1 = std::min(p.w.n_out, r0 + p.chunk);
    if (p.pack) {
      run_panels(ks, p, a, n_tokens, r0, r1);
    } else {
      run_tiles(ks, p, a, n_tokens, r0, r1);
    }
  });
}

}  // namespace

namespace detail {
const kernel_set& active_kernels() {
  const kernel_set* k = kernels_for(current_isa().load(std::memory_order_relaxed));
  return k ? *k : scalar_kernels();
}
}  // namespace detail

const char* isa_name(isa i) {
  switch (i) {
    case isa::scalar: return "scalar";
    case isa::avx2: return "avx2";
    case isa::avx512: return "avx512";
    case isa::neon: return "neon";
  }
  return "?";
}

isa best_isa() {
  if (kernels_for(isa::avx512)) return isa::avx512;
  if (kernels_for(isa::avx2)) return isa::avx2;
  if (kernels_for(isa::neon)) return isa::neon;
  return isa::scalar;
}

std::vector<isa> available_isas() {
  std::vector<isa> v;
  for (isa i : {isa::avx512, isa::avx2, isa::neon}) {
    if (kernels_for(i)) v.push_back(i);
  }
  v.push_back(isa::scalar);
  return v;
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

void quantize_activation_row(dtype act, const float* x, void* y, int64_t n) {
  const detail::quantize_fn quantize = detail::active_kernels().quantize_for(act);
  if (quantize) {
    quantize(x, y, n);
  } else {
    quantize_row(act, x, y, n);
  }
}

bool matmul_supports(dtype t) { return is_known(t) && t != dtype::q8_k; }

void matmul(const weight_view& w, const float* x, int64_t n_tokens, float* y, thread_pool& pool) {
  const matmul_out out{w, y};
  matmul_multi({&out, 1}, x, n_tokens, pool);
}

void matmul_multi(std::span<const matmul_out> outs, const float* x, int64_t n_tokens, thread_pool& pool) {
  if (outs.empty() || n_tokens <= 0) return;
  if (outs.size() > max_outs) {  // more than one call's worth: in slices (not used by the engine)
    for (size_t i = 0; i < outs.size(); i += max_outs) {
      matmul_multi(outs.subspan(i, std::min(max_outs, outs.size() - i)), x, n_tokens, pool);
    }
    return;
  }
  // Group the outputs by activation format (mixed-type models can pair e.g. Q8_0 with Q4_K).
  for (dtype act : {dtype::f32, dtype::q8_0, dtype::q8_k}) {
    matmul_out same[max_outs];
    size_t n = 0;
    for (const matmul_out& o : outs) {
      if (activation_type(o.w.type) == act) same[n++] = o;
    }
    if (n > 0) matmul_same_format({same, n}, act, x, n_tokens, pool);
  }
}

}  // namespace laneway::cpu
