// Weights as the GGUF file stores them (binding 0, a uint[] view of the bytes) and the
// dequantization of one 32-value chunk of a row into registers. Blocks are only 2-byte aligned
// (Q8_0 is 34 bytes), so reads go through the byte helpers below. Type ids are GGUF's.
#define T_F32 0u
#define T_F16 1u
#define T_Q4_0 2u
#define T_Q8_0 8u
#define T_Q4_K 12u
#define T_Q5_K 13u
#define T_Q6_K 14u
#define T_BF16 30u

layout(std430, binding = 0) readonly buffer weights_buf { uint wb[]; };

uint rd_u8(uint off) { return (wb[off >> 2] >> ((off & 3u) * 8u)) & 0xffu; }
uint rd_u16(uint off) { return (wb[off >> 2] >> ((off & 2u) * 8u)) & 0xffffu; }  // off even
uint rd_u32(uint off) {  // off even
  const uint a = off >> 2;
  return (off & 2u) == 0u ? wb[a] : (wb[a] >> 16) | (wb[a + 1u] << 16);
}
float rd_f16(uint off) { return unpackHalf2x16(rd_u16(off)).x; }
float rd_f32(uint off) { return uintBitsToFloat(wb[off >> 2]); }  // off % 4 == 0
int sbyte(uint word, uint k) { return bitfieldExtract(int(word), int(8u * k), 8); }

// Bytes of one row of n values.
uint row_bytes(uint type, uint n) {
  switch (type) {
    case T_F32: return 4u * n;
    case T_F16: case T_BF16: return 2u * n;
    case T_Q4_0: return n / 32u * 18u;
    case T_Q8_0: return n / 32u * 34u;
    case T_Q4_K: return n / 256u * 144u;
    case T_Q5_K: return n / 256u * 176u;
    case T_Q6_K: return n / 256u * 210u;
  }
  return 0u;
}

// The (scale, min) pair j of a Q4_K / Q5_K scales[12] array at byte offset s (6 bits each).
void scale_min_k4_int(uint s, uint j, out int sc, out int mn) {
  if (j < 4u) {
    sc = int(rd_u8(s + j) & 63u);
    mn = int(rd_u8(s + j + 4u) & 63u);
  } else {
    sc = int((rd_u8(s + j + 4u) & 15u) | ((rd_u8(s + j - 4u) >> 6) << 4));
    mn = int((rd_u8(s + j + 4u) >> 4) | ((rd_u8(s + j) >> 6) << 4));
  }
}
void scale_min_k4(uint s, uint j, out float sc, out float mn) {
  int isc, imn;
  scale_min_k4_int(s, j, isc, imn);
  sc = float(isc);
  mn = float(imn);
}

// v = values [32c, 32c + 32) of the row at byte offset row (n values; float rows may end inside
// the chunk: the rest is 0). Quantized rows have n % 32 == 0 (K-quants n % 256 == 0).
void load_chunk(uint type, uint row, uint c, uint n, out float v[32]) {
  switch (type) {
    case T_F32:
    case T_F16:
    case T_BF16: {
      for (uint i = 0u; i < 32u; ++i) {
        const uint e = 32u * c + i;
        float x = 0.0;
        if (e < n) {
          if (type == T_F32) x = rd_f32(row + 4u * e);
          else if (type == T_F16) x = rd_f16(row + 2u * e);
          else x = uintBitsToFloat(rd_u16(row + 2u * e) << 16);
        }
        v[i] = x;
      }
      return;
    }
    case T_Q8_0: {  // d, int8 q[32]
      const uint b = row + 34u * c;
      const float d = rd_f16(b);
      for (uint i = 0u; i < 8u; ++i) {
        const uint q = rd_u32(b + 2u + 4u * i);
        for (uint k = 0u; k < 4u; ++k) v[4u * i + k] = d * float(sbyte(q, k));
      }
      return;
    }
    case T_Q4_0: {  // d, u8 qs[16]: element j low nibble of qs[j], j + 16 its high nibble
      const uint b = row + 18u * c;
      const float d = rd_f16(b);
      for (uint i = 0u; i < 4u; ++i) {
        const uint q = rd_u32(b + 2u + 4u * i);
        for (uint k = 0u; k < 4u; ++k) {
          const uint byte = (q >> (8u * k)) & 0xffu;
          v[4u * i + k] = d * (float(byte & 15u) - 8.0);
          v[4u * i + k + 16u] = d * (float(byte >> 4) - 8.0);
        }
      }
      return;
    }
    case T_Q4_K:
    case T_Q5_K: {  // d, dmin, scales[12], (Q5_K: qh[32]), qs[128]; chunk = sub-block j
      const bool five = type == T_Q5_K;
      const uint b = row + (five ? 176u : 144u) * (c / 8u), j = c % 8u;
      const float d = rd_f16(b), dmin = rd_f16(b + 2u);
      float sc, mn;
      scale_min_k4(b + 4u, j, sc, mn);
      const float ds = d * sc, dm = dmin * mn;
      const uint qs = b + (five ? 48u : 16u) + 32u * (j / 2u), qh = b + 16u;
      const uint shift = (j % 2u) * 4u;
      for (uint i = 0u; i < 8u; ++i) {
        const uint q = rd_u32(qs + 4u * i);
        const uint h = five ? rd_u32(qh + 4u * i) : 0u;
        for (uint k = 0u; k < 4u; ++k) {
          uint x = (q >> (8u * k + shift)) & 15u;
          if (five) x |= ((h >> (8u * k + j)) & 1u) << 4;
          v[4u * i + k] = ds * float(x) - dm;
        }
      }
      return;
    }
    case T_Q6_K: {  // ql[128], qh[64], int8 scales[16], d; chunk c: half c/4, quarter c%4
      const uint b = row + 210u * (c / 8u), h = (c % 8u) / 4u, k = c % 4u;
      const float d = rd_f16(b + 208u);
      const uint ql = b + 64u * h + (k % 2u) * 32u, qh = b + 128u + 32u * h;
      const uint lshift = (k / 2u) * 4u, hshift = 2u * k;
      const uint sc = b + 192u + 8u * h + 2u * k;
      const float s0 = d * float(sbyte(rd_u8(sc), 0u)), s1 = d * float(sbyte(rd_u8(sc + 1u), 0u));
      for (uint i = 0u; i < 8u; ++i) {
        const uint lo = rd_u32(ql + 4u * i), hi = rd_u32(qh + 4u * i);
        for (uint m = 0u; m < 4u; ++m) {
          const uint l = 4u * i + m;
          const int q = int(((lo >> (8u * m + lshift)) & 15u) | (((hi >> (8u * m + hshift)) & 3u) << 4)) - 32;
          v[l] = (l < 16u ? s0 : s1) * float(q);
        }
      }
      return;
    }
  }
  for (uint i = 0u; i < 32u; ++i) v[i] = 0.0;
}

// ---- the integer view, for the quantized dot products (matmul.comp) ----------------------------
// Lane k of 32-value group g of a quantized row (values 32g + 4k .. 32g + 4k + 3, an i32 lane of
// the CPU's AVX2 integer dot) as the integers that dot multiplies: Q8_0 q, Q4_0 q - 8, Q4_K q
// (0..15), Q5_K q (0..31), Q6_K q (0..63; its -32 comes from the activations' bsums).
ivec4 lane_quants(uint type, uint row, uint g, uint k) {
  ivec4 q = ivec4(0);
  switch (type) {
    case T_Q8_0: {
      const uint w = rd_u32(row + 34u * g + 2u + 4u * k);
      return ivec4(sbyte(w, 0u), sbyte(w, 1u), sbyte(w, 2u), sbyte(w, 3u));
    }
    case T_Q4_0: {  // values 0..15 are the low nibbles of qs[0..15], 16..31 the high ones
      const uint w = rd_u32(row + 18u * g + 2u + 4u * (k & 3u)) >> (k < 4u ? 0u : 4u);
      for (uint m = 0u; m < 4u; ++m) q[m] = int((w >> (8u * m)) & 15u) - 8;
      return q;
    }
    case T_Q4_K:
    case T_Q5_K: {  // sub-block j: nibble j % 2 of qs[32 (j / 2) ..], Q5_K bit 4 = bit j of qh[l]
      const bool five = type == T_Q5_K;
      const uint b = row + (five ? 176u : 144u) * (g / 8u), j = g % 8u;
      const uint w = rd_u32(b + (five ? 48u : 16u) + 32u * (j / 2u) + 4u * k) >> (4u * (j % 2u));
      const uint h = five ? rd_u32(b + 16u + 4u * k) >> j : 0u;
      for (uint m = 0u; m < 4u; ++m) q[m] = int(((w >> (8u * m)) & 15u) | (((h >> (8u * m)) & 1u) << 4));
      return q;
    }
    case T_Q6_K: {  // group j of the block: half j / 4, quarter j % 4 (see load_chunk)
      const uint b = row + 210u * (g / 8u), j = g % 8u, hf = j / 4u, kk = j % 4u;
      const uint lo = rd_u32(b + 64u * hf + (kk % 2u) * 32u + 4u * k) >> ((kk / 2u) * 4u);
      const uint hi = rd_u32(b + 128u + 32u * hf + 4u * k) >> (2u * kk);
      for (uint m = 0u; m < 4u; ++m) q[m] = int(((lo >> (8u * m)) & 15u) | (((hi >> (8u * m)) & 3u) << 4));
      return q;
    }
  }
  return q;
}

// The integer scale lane k of group g multiplies by: the Q4_K / Q5_K sub-block scale, the Q6_K
// scale of the lane's 16 values; 1 for Q8_0 / Q4_0.
int lane_scale(uint type, uint row, uint g, uint k) {
  if (type == T_Q4_K || type == T_Q5_K) {
    int sc, mn;
    scale_min_k4_int(row + (type == T_Q5_K ? 176u : 144u) * (g / 8u) + 4u, g % 8u, sc, mn);
    return sc;
  }
  if (type == T_Q6_K) {
    const uint j = g % 8u;
    return sbyte(rd_u8(row + 210u * (g / 8u) + 192u + 8u * (j / 4u) + 2u * (j % 4u) + (k < 4u ? 0u : 1u)), 0u);
  }
  return 1;
}

// The fp16 scale d of the block that holds group g (Q8_0 / Q4_0: the group's block; K-quants:
// the super-block's d).
float block_d(uint type, uint row, uint g) {
  switch (type) {
    case T_Q8_0: return rd_f16(row + 34u * g);
    case T_Q4_0: return rd_f16(row + 18u * g);
    case T_Q4_K: return rd_f16(row + 144u * (g / 8u));
    case T_Q5_K: return rd_f16(row + 176u * (g / 8u));
    case T_Q6_K: return rd_f16(row + 210u * (g / 8u) + 208u);
  }
  return 0.0;
}
