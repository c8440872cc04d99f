// K-quants (256-value super-blocks): dequantizers that pin the GGUF layouts, and simple reference
// quantizers. Q4_K/Q5_K fit each 32-value sub-block as x ~ s*q - m by a few least-squares rounds,
// then quantize s and m to 6 bits under fp16 super-scales; Q6_K is symmetric per 16 values.
#include <algorithm>
#include <cmath>

#include "backends/cpu/quant_types.hpp"
#include "backends/cpu/round.hpp"

namespace laneway::cpu {

namespace {

// x: [n]; fit x ~ scale * q - min with q in [0, nmax], min >= 0; returns scale >= 0 and min.
void fit_scale_min(const float* x, int n, int nmax, float* scale, float* min) {
  float lo = 0.0f, hi = 0.0f;
  for (int i = 0; i < n; ++i) {
    lo = std::fmin(lo, x[i]);
    hi = std::fmax(hi, x[i]);
  }
  if (hi <= lo) {
    *scale = 0.0f;
    *min = -lo;
    return;
  }
  float a = (hi - lo) / nmax, b = lo;  // x ~ a*q + b
  float best_err = INFINITY, best_a = a, best_b = b;
  for (int iter = 0; iter < 4; ++iter) {
    double sq = 0, sqq = 0, sx = 0, sqx = 0, err = 0;
    for (int i = 0; i < n; ++i) {
      const int q = a > 0 ? clamp_int(round_nearest((x[i] - b) / a), 0, nmax) : 0;
      const double e = a * q + b - x[i];
      err += e * e;
      sq += q;
      sqq += static_cast<double>(q) * q;
      sx += x[i];
      sqx += q * static_cast<double>(x[i]);
    }
    if (err < best_err) {
      best_err = static_cast<float>(err);
      best_a = a;
      best_b = b;
    }
    const double det = n * sqq - sq * sq;
    if (det <= 0) break;
    double na = (n * sqx - sq * sx) / det, nb = (sx - na * sq) / n;
    if (nb > 0) {  // the offset must be <= 0 (stored as a non-negative min)
      nb = 0;
      na = sqq > 0 ? sqx / sqq : 0;
    }
    if (na <= 0) break;
    a = static_cast<float>(na);
    b = static_cast<float>(nb);
  }
  *scale = best_a;
  *min = -best_b;
}

// Shared by Q4_K (nmax 15) and Q5_K (nmax 31): x: [256] -> d, dmin, scales[12], q: [256].
void quantize_k_super(const float* x, int nmax, uint16_t* d_out, uint16_t* dmin_out,
                      uint8_t* packed, uint8_t* q) {
  float scale[8], min[8], max_scale = 0.0f, max_min = 0.0f;
  for (int j = 0; j < 8; ++j) {
    fit_scale_min(x + 32 * j, 32, nmax, &scale[j], &min[j]);
    max_scale = std::fmax(max_scale, scale[j]);
    max_min = std::fmax(max_min, min[j]);
  }
  *d_out = fp32_to_fp16(max_scale / 63.0f);
  *dmin_out = fp32_to_fp16(max_min / 63.0f);
  const float d = fp16_to_fp32(*d_out), dmin = fp16_to_fp32(*dmin_out);
  uint8_t sc[8], mn[8];
  for (int j = 0; j < 8; ++j) {
    sc[j] = static_cast<uint8_t>(d > 0 ? clamp_int(round_nearest(scale[j] / d), 0, 63) : 0);
    mn[j] = static_cast<uint8_t>(dmin > 0 ? clamp_int(round_nearest(min[j] / dmin), 0, 63) : 0);
    const float s = d * sc[j], m = dmin * mn[j];
    for (int l = 0; l < 32; ++l) {
      q[32 * j + l] = static_cast<uint8_t>(
          s > 0 ? clamp_int(round_nearest((x[32 * j + l] + m) / s), 0, nmax) : 0);
    }
  }
  pack_scale_min_k4(sc, mn, packed);
}

}  // namespace

// x: [n], y: [n/256]
void quantize_row_q4_k(const float* x, block_q4_k* y, int64_t n) {
  for (int64_t b = 0; b < n / qk_k; ++b, x += qk_k) {
    uint8_t q[qk_k];
    quantize_k_super(x, 15, &y[b].d, &y[b].dmin, y[b].scales, q);
    for (int c = 0; c < 4; ++c) {  // sub-block 2c -> low nibbles, 2c+1 -> high nibbles
      for (int l = 0; l < 32; ++l) {
        y[b].qs[32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
      }
    }
  }
}

void quantize_row_q5_k(const float* x, block_q5_k* y, int64_t n) {
  for (int64_t b = 0; b < n / qk_k; ++b, x += qk_k) {
    uint8_t q[qk_k];
    quantize_k_super(x, 31, &y[b].d, &y[b].dmin, y[b].scales, q);
    for (int l = 0; l < 32; ++l) y[b].qh[l] = 0;
    for (int j = 0; j < 8; ++j) {
      for (int l = 0; l < 32; ++l) y[b].qh[l] |= static_cast<uint8_t>((q[32 * j + l] >> 4) << j);
    }
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        y[b].qs[32 * c + l] =
            static_cast<uint8_t>((q[64 * c + l] & 15) | ((q[64 * c + 32 + l] & 15) << 4));
      }
    }
  }
}

// x: [n], y: [n/256]; per 16 values the signed value of largest magnitude maps to q = -32.
void quantize_row_q6_k(const float* x, block_q6_k* y, int64_t n) {
  for (int64_t b = 0; b < n / qk_k; ++b, x += qk_k) {
    float scale[16], max_abs_scale = 0.0f;
    for (int j = 0; j < 16; ++j) {
      float amax = 0.0f, max = 0.0f;
      for (int l = 0; l < 16; ++l) {
        if (std::fabs(x[16 * j + l]) > amax) {
          amax = std::fabs(x[16 * j + l]);
          max = x[16 * j + l];
        }
      }
      scale[j] = max / -32.0f;
      max_abs_scale = std::fmax(max_abs_scale, std::fabs(scale[j]));
    }
    y[b].d = fp32_to_fp16(max_abs_scale / 127.0f);
    const float d = fp16_to_fp32(y[b].d);
    int q[qk_k];  // 0..63
    for (int j = 0; j < 16; ++j) {
      const int sc = d > 0 ? clamp_int(round_nearest(scale[j] / d), -127, 127) : 0;
      y[b].scales[j] = static_cast<int8_t>(sc);
      const float s = d * sc;
      for (int l = 0; l < 16; ++l) {
        const int v = s != 0 ? clamp_int(round_nearest(x[16 * j + l] / s), -32, 31) : 0;
        q[16 * j + l] = v + 32;
      }
    }
    for (int h = 0; h < 2; ++h) {
      uint8_t* ql = y[b].ql + 64 * h;
      uint8_t* qh = y[b].qh + 32 * h;
      const int* qq = q + 128 * h;
      for (int l = 0; l < 32; ++l) {
        ql[l] = static_cast<uint8_t>((qq[l] & 15) | ((qq[l + 64] & 15) << 4));
        ql[l + 32] = static_cast<uint8_t>((qq[l + 32] & 15) | ((qq[l + 96] & 15) << 4));
        qh[l] = static_cast<uint8_t>((qq[l] >> 4) | ((qq[l + 32] >> 4) << 2) |
                                     ((qq[l + 64] >> 4) << 4) | ((qq[l + 96] >> 4) << 6));
      }
    }
  }
}

// x: [n], y: [n/256]; bsums per 16 quants. As llama.cpp's quantize_row_q8_K (its x86 activation
// quantizer too): the scale comes from the signed value m of largest magnitude, iscale = -127 / m,
// q = min(127, round_half_even(iscale * x)), d = 1 / iscale (a float, negative when m > 0).
void quantize_row_q8_k(const float* x, block_q8_k* y, int64_t n) {
  for (int64_t b = 0; b < n / qk_k; ++b, x += qk_k) {
    float amax = 0.0f, max = 0.0f;  // max: the first value of largest magnitude, with its sign
    for (int j = 0; j < qk_k; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    if (amax == 0.0f) {
      y[b] = block_q8_k{};
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < qk_k; ++j) {
      y[b].qs[j] = static_cast<int8_t>(std::min(127, round_nearest(iscale * x[j])));
    }
    for (int j = 0; j < qk_k / 16; ++j) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += y[b].qs[16 * j + l];
      y[b].bsums[j] = static_cast<int16_t>(sum);
    }
    y[b].d = 1.0f / iscale;
  }
}

// ---- dequantizers: x -> y: [n] --------------------------------------------------------------
void dequantize_row_q4_k(const block_q4_k* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / qk_k; ++b, y += qk_k) {
    const float d = fp16_to_fp32(x[b].d), dmin = fp16_to_fp32(x[b].dmin);
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      get_scale_min_k4(j, x[b].scales, &sc, &m);
      const uint8_t* q = x[b].qs + 32 * (j / 2);
      for (int l = 0; l < 32; ++l) {
        const int v = (j % 2) ? (q[l] >> 4) : (q[l] & 15);
        y[32 * j + l] = d * sc * v - dmin * m;
      }
    }
  }
}

void dequantize_row_q5_k(const block_q5_k* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / qk_k; ++b, y += qk_k) {
    const float d = fp16_to_fp32(x[b].d), dmin = fp16_to_fp32(x[b].dmin);
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      get_scale_min_k4(j, x[b].scales, &sc, &m);
      const uint8_t* q = x[b].qs + 32 * (j / 2);
      for (int l = 0; l < 32; ++l) {
        const int v = ((j % 2) ? (q[l] >> 4) : (q[l] & 15)) | (((x[b].qh[l] >> j) & 1) << 4);
        y[32 * j + l] = d * sc * v - dmin * m;
      }
    }
  }
}

void dequantize_row_q6_k(const block_q6_k* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / qk_k; ++b) {
    const float d = fp16_to_fp32(x[b].d);
    for (int h = 0; h < 2; ++h, y += 128) {
      const uint8_t* ql = x[b].ql + 64 * h;
      const uint8_t* qh = x[b].qh + 32 * h;
      const int8_t* sc = x[b].scales + 8 * h;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 15) | ((qh[l] >> 0 & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 15) | ((qh[l] >> 2 & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | ((qh[l] >> 4 & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6 & 3) << 4)) - 32;
        y[l] = d * sc[is] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
    }
  }
}

void dequantize_row_q8_k(const block_q8_k* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / qk_k; ++b) {
    for (int j = 0; j < qk_k; ++j) y[b * qk_k + j] = x[b].d * x[b].qs[j];
  }
}

}  // namespace laneway::cpu
