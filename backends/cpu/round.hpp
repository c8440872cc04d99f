// Small numeric helpers shared by the quantizers (internal to backends/cpu).
// round_nearest: round half to even for |v| < 2^22 without a libm call (adds 1.5*2^23 so the
// FPU's own rounding lands the integer in the low mantissa bits).
#pragma once

#include <cstdint>
#include <cstring>

namespace laneway::cpu {

inline int round_nearest(float v) {
  const float f = v + 12582912.0f;  // 1.5 * 2^23
  int32_t i;
  std::memcpy(&i, &f, 4);
  return (i & 0x007fffff) - 0x00400000;
}

inline int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

}  // namespace laneway::cpu
