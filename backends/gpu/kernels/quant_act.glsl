// The CPU path's activation arithmetic, bit for bit (backends/cpu: round.hpp round_nearest,
// quant_types.cpp fp32_to_fp16 and quantize_row_q8_0, quant_k.cpp quantize_row_q8_k), for the
// matmul kernel to quantize activation blocks in registers. GLSL leaves round()'s halves and
// packHalf2x16's rounding to the implementation, so both rules are written out here; every
// product and sum that must round once is `precise` (no contraction into an fma).

// round half to even of x * s (|x * s| < 2^22): adding 1.5 * 2^23 lands the integer in the low
// mantissa bits, as round.hpp's round_nearest does.
int round_scaled(float x, float s) {
  precise float y = x * s;
  precise float f = y + 12582912.0;
  return (floatBitsToInt(f) & 0x007fffff) - 0x00400000;
}

// f -> fp16 bits, round to nearest even (NaN stays quiet, overflow is inf, subnormals rounded).
uint fp16_bits(float f) {
  const uint x = floatBitsToUint(f);
  const uint sign = (x >> 16) & 0x8000u;
  const uint a = x & 0x7fffffffu;
  if (a > 0x7f800000u) return sign | 0x7e00u | ((a >> 13) & 0x3ffu);
  if (a >= 0x477ff000u) return sign | 0x7c00u;
  if (a < 0x38800000u) {  // below 2^-14: a half subnormal (units of 2^-24) or zero
    if (a <= 0x33000000u) return sign;
    const uint mant = (a & 0x7fffffu) | 0x800000u, shift = 126u - (a >> 23);
    uint r = mant >> shift;
    const uint rem = mant & ((1u << shift) - 1u), half_ulp = 1u << (shift - 1u);
    if (rem > half_ulp || (rem == half_ulp && (r & 1u) != 0u)) ++r;
    return sign | r;
  }
  uint h = (a >> 13) - (112u << 10);
  const uint rem = a & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) != 0u)) ++h;
  return sign | h;
}

// The four int8 of a word, low byte first, packed back.
uint pack_i8x4(int a, int b, int c, int d) {
  return (uint(a) & 0xffu) | ((uint(b) & 0xffu) << 8) | ((uint(c) & 0xffu) << 16) | ((uint(d) & 0xffu) << 24);
}
