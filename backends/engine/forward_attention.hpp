// Internal to forward_attention*.cpp: the two inner loops of attention over one contiguous run of
// KV-cache rows, as a kernel set per ISA (plain loops in forward_attention.cpp, AVX2 + FMA + F16C
// in forward_attention_avx2.cpp, picked at run time like cpu::matmul's kernels).
#pragma once

#include <cstddef>
#include <cstdint>

#include "backends/cpu/quant_types.hpp"

namespace laneway::engine::detail {

// n cache rows, row i at base + i * row_bytes; this kv head's head_dim values start at value
// `offset` of each row; values are f32 or f16.
struct kv_run {
  const std::byte* base;
  std::size_t row_bytes;
  int64_t offset;
  int32_t n;
  cpu::dtype type;
};

// q: [group, d]; score[g * ld + i] = scale * q_g . k_i for g < group, i < k.n.
// tmp: [d] scratch for widening an f16 row (unused by kernels that widen in registers).
using score_fn = void (*)(const float* q, int64_t group, int64_t d, const kv_run& k, float scale,
                          float* score, int64_t ld, float* tmp);

// The V sum of online softmax (llama.cpp's CPU flash attention), for g < group, rows i in order:
//   if rescale[g * ld + i] != 1:  acc_g = acc_g * rescale[g * ld + i]   (a new running maximum)
//   acc_g = acc_g + w[g * ld + i] * v_i
// When v is f16 the accumulator is an f16 one: acc_g is rounded to f16 after each of the two
// steps (acc holds f32 values that are exactly f16). When v is f32 it stays f32.
// acc: [group, d].
using accumulate_fn = void (*)(const float* w, const float* rescale, int64_t ld, int64_t group,
                               int64_t d, const kv_run& v, float* acc, float* tmp);

struct attend_kernels {
  score_fn score;
  accumulate_fn accumulate;
};

const attend_kernels& plain_attend_kernels();  // the plain loops (forward_attention.cpp)
const attend_kernels* avx2_attend_kernels();   // nullptr when not compiled in (non-x86 builds)

}  // namespace laneway::engine::detail
