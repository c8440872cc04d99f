// The fast matrix multiply y = x W^T for GGUF weight matrices, multithreaded and SIMD-dispatched
// at run time (AVX-512 F/BW/VL/VNNI or AVX2+FMA+F16C on x86-64 when the CPU has them, NEON on
// arm64, scalar otherwise).
// Quantized weights: the activation rows are quantized once per call (Q8_0 for Q4_0/Q8_0,
// Q8_K for the K-quants) and every block is an integer dot product; float weights use FMA.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "backends/cpu/quant_types.hpp"
#include "backends/cpu/thread_pool.hpp"

namespace laneway::cpu {

enum class isa { scalar, avx2, avx512, neon };
const char* isa_name(isa i);

isa best_isa();    // the best kernel set this binary has for this CPU
isa active_isa();  // what matmul uses now: best_isa() unless forced
std::vector<isa> available_isas();  // every kernel set this binary can run here, scalar included
// Force a kernel set (tests, benchmarks); an unavailable one falls back to scalar. The
// environment variable LANEWAY_CPU_ISA=scalar|avx2|avx512|neon sets the initial choice.
void force_isa(isa i);
void reset_isa();  // back to best_isa()

// Activation row format matmul uses for weights of type t (f32 for f32/f16/bf16).
dtype activation_type(dtype weight_type);
// One activation row quantized the way matmul does it (act: q8_0 or q8_k): the active kernel
// set's SIMD quantizer where it has one, always bit-identical to quantize_row(act, ...).
void quantize_activation_row(dtype act, const float* x, void* y, int64_t n);
// Whether matmul accepts weights of this type (every known type except q8_k).
bool matmul_supports(dtype weight_type);

// w: [n_out, n_in] row-major in blocks of w.type (n_in % block size == 0),
// x: [n_tokens, n_in], y: [n_tokens, n_out];  y[t][o] = sum_i W[o][i] * x[t][i].
// Rows of W are split over the pool's threads; for n_tokens > 1 every weight row is reused for
// a tile of tokens while it is in L1. Per-thread scratch grows once and is then reused.
void matmul(const weight_view& w, const float* x, int64_t n_tokens, float* y, thread_pool& pool);

// One product of matmul_multi: y = x W^T, y: [n_tokens, w.n_out].
struct matmul_out {
  weight_view w;
  float* y;
};
// Several matrices applied to the same input (q/k/v; gate/up), as if matmul were called for
// each: the activations are quantized once per activation format and the row chunks of all
// the matrices share one parallel_for (one pool sync instead of one per matrix). Every
// outs[i].w.n_in must be the same (more than 8 outputs are done 8 at a time).
void matmul_multi(std::span<const matmul_out> outs, const float* x, int64_t n_tokens, thread_pool& pool);

}  // namespace laneway::cpu
