// Element types and quantized block layouts of GGUF weights (as GGML stores them on disk),
// exact fp16/bf16 <-> fp32 conversion, and row-wise quantize / dequantize for every type.
// Layouts: see docs/cpu-kernels.md; every block struct has its on-disk size static_asserted.
#pragma once

#include <cstddef>
#include <cstdint>

namespace laneway::cpu {

// GGUF / GGML type ids (the numbers are the file format's).
enum class dtype : uint32_t {
  f32 = 0,
  f16 = 1,
  q4_0 = 2,
  q8_0 = 8,
  q4_k = 12,
  q5_k = 13,
  q6_k = 14,
  q8_k = 15,
  bf16 = 30,
};

// ---- half precision -------------------------------------------------------------------------
float fp16_to_fp32(uint16_t h);   // exact (subnormals, inf, nan keep their meaning)
uint16_t fp32_to_fp16(float f);   // round to nearest even; overflow -> inf; nan stays nan
float bf16_to_fp32(uint16_t h);   // exact (bf16 is the top half of an fp32)
uint16_t fp32_to_bf16(float f);   // round to nearest even; nan stays (quiet) nan

// ---- blocks ---------------------------------------------------------------------------------
constexpr int64_t qk8_0 = 32;
constexpr int64_t qk4_0 = 32;
constexpr int64_t qk_k = 256;       // super-block size of the K-quants
constexpr int k_scale_size = 12;    // 8 packed 6-bit (scale, min) pairs

// Q8_0: x = d * q
struct block_q8_0 {
  uint16_t d;     // fp16 scale
  int8_t qs[32];  // quants
};
static_assert(sizeof(block_q8_0) == 34);

// Q4_0: element j = low nibble of qs[j], element j+16 = high nibble; x = d * (nibble - 8)
struct block_q4_0 {
  uint16_t d;      // fp16 scale
  uint8_t qs[16];  // nibbles
};
static_assert(sizeof(block_q4_0) == 18);

// Q4_K: 8 sub-blocks of 32; x = d*scale[j]*q - dmin*min[j]. Sub-block 2c uses the low nibbles of
// qs[32c .. 32c+31], sub-block 2c+1 their high nibbles (c = 0..3).
struct block_q4_k {
  uint16_t d;                   // fp16 super-block scale of the scales
  uint16_t dmin;                // fp16 super-block scale of the mins
  uint8_t scales[k_scale_size]; // 6-bit scales and mins, packed (get_scale_min_k4)
  uint8_t qs[qk_k / 2];         // 4-bit quants
};
static_assert(sizeof(block_q4_k) == 144);

// Q5_K: as Q4_K, plus the fifth bit of element l of sub-block j in bit j of qh[l % 32].
struct block_q5_k {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[k_scale_size];
  uint8_t qh[qk_k / 8];  // high bits
  uint8_t qs[qk_k / 2];  // low 4 bits
};
static_assert(sizeof(block_q5_k) == 176);

// Q6_K: 16 sub-blocks of 16; x = d*scale[j]*(q - 32), q 6-bit = 4 bits of ql + 2 bits of qh.
// Per half h (128 values, ql += 64h, qh += 32h, scales += 8h), for l = 0..31:
//   value l      = ql[l]    & 15 | (qh[l] >> 0 & 3) << 4      scale index l/16
//   value l + 32 = ql[l+32] & 15 | (qh[l] >> 2 & 3) << 4      scale index l/16 + 2
//   value l + 64 = ql[l]    >> 4 | (qh[l] >> 4 & 3) << 4      scale index l/16 + 4
//   value l + 96 = ql[l+32] >> 4 | (qh[l] >> 6 & 3) << 4      scale index l/16 + 6
struct block_q6_k {
  uint8_t ql[qk_k / 2];   // low 4 bits
  uint8_t qh[qk_k / 4];   // high 2 bits
  int8_t scales[qk_k / 16];
  uint16_t d;             // fp16, last
};
static_assert(sizeof(block_q6_k) == 210);

// Q8_K: activations for K-quant dot products. x = d * q; bsums[j] = sum of qs[16j .. 16j+15].
struct block_q8_k {
  float d;
  int8_t qs[qk_k];
  int16_t bsums[qk_k / 16];
};
static_assert(sizeof(block_q8_k) == 292);

// Unpack the j-th (scale, min) pair (j = 0..7) of a Q4_K / Q5_K scales[12] array.
// Bytes 0-3: low 6 bits = scale 0-3, top 2 bits = high bits of scale 4-7.
// Bytes 4-7: low 6 bits = min 0-3,   top 2 bits = high bits of min 4-7.
// Bytes 8-11: low nibble = low 4 bits of scale 4-7, high nibble = low 4 bits of min 4-7.
inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
    *min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}
// Inverse of get_scale_min_k4: scale[8], min[8] each < 64 -> q[12].
void pack_scale_min_k4(const uint8_t* scale, const uint8_t* min, uint8_t* q);

// ---- per-type facts -------------------------------------------------------------------------
struct type_traits {
  const char* name;    // "q8_0", ...
  int64_t block_size;  // values per block (1 for float types)
  size_t block_bytes;  // bytes per block
};
bool is_known(dtype t);                 // one of the ids above
const type_traits& traits(dtype t);     // precondition: is_known(t)
size_t row_bytes(dtype t, int64_t n);   // precondition: n % block_size == 0

// A weight matrix in the GGUF layout: n_out rows of n_in values, one row after another.
// w: [n_out, n_in] row-major in blocks of `type` (row r starts at data + r * row_bytes(type, n_in))
struct weight_view {
  dtype type = dtype::f32;
  const void* data = nullptr;
  int64_t n_out = 0;
  int64_t n_in = 0;
};

// src: n values of type t (n % block_size == 0) -> dst: [n] float
void dequantize_row(dtype t, const void* src, float* dst, int64_t n);
// src: [n] float -> dst: n values of type t. Reference quantizers (simple, not ggml bit-exact).
void quantize_row(dtype t, const float* src, void* dst, int64_t n);

// The two activation formats (also reachable through quantize_row).
void quantize_row_q8_0(const float* x, block_q8_0* y, int64_t n);  // x: [n], y: [n/32]
void quantize_row_q8_k(const float* x, block_q8_k* y, int64_t n);  // x: [n], y: [n/256]

// K-quant quantizers and dequantizers (quant_k.cpp).
void quantize_row_q4_k(const float* x, block_q4_k* y, int64_t n);
void quantize_row_q5_k(const float* x, block_q5_k* y, int64_t n);
void quantize_row_q6_k(const float* x, block_q6_k* y, int64_t n);
void dequantize_row_q4_k(const block_q4_k* x, float* y, int64_t n);
void dequantize_row_q5_k(const block_q5_k* x, float* y, int64_t n);
void dequantize_row_q6_k(const block_q6_k* x, float* y, int64_t n);
void dequantize_row_q8_k(const block_q8_k* x, float* y, int64_t n);

}  // namespace laneway::cpu
