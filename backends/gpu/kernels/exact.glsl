// Error-free float arithmetic, for kernels that must round as the CPU path does. GLSL's fma()
// may be a product and an add rounded apart (lavapipe lowers it so), and drivers may contract
// a * b + c into one fma, so everything here is `precise` and fma_rn is built from exact parts.

// a + b = hi + lo exactly (Knuth's two-sum), hi = a + b rounded.
vec2 two_sum(float a, float b) {
  precise float s = a + b;
  precise float bb = s - a;
  precise float e = (a - (s - bb)) + (b - bb);
  return vec2(s, e);
}

// a * b = hi + lo exactly (Dekker's product with Veltkamp's split; no overflow for |a|, |b| <
// 2^100 or so, which activations and scales are).
vec2 two_prod(float a, float b) {
  precise float p = a * b;
  precise float ca = 4097.0 * a, cb = 4097.0 * b;
  precise float ah = ca - (ca - a), bh = cb - (cb - b);
  precise float al = a - ah, bl = b - bh;
  precise float e = (((ah * bh - p) + ah * bl) + al * bh) + al * bl;
  return vec2(p, e);
}

// a * b + c rounded once, as a hardware FMA (the CPU's _mm256_fmadd_ps) computes it: the exact
// product plus c as a sum of three floats, rounded at the end. It can differ from a true FMA
// only where the last two roundings tie, far rarer than anything the tests could see.
float fma_rn(float a, float b, float c) {
  const vec2 p = two_prod(a, b);
  const vec2 s = two_sum(p.x, c);
  precise float lo = s.y + p.y;
  precise float r = s.x + lo;
  return r;
}

// Pairs hi + lo (|lo| <= ulp(hi) / 2) as ~46-bit numbers: sum and product (~2^-44 relative).
vec2 add_pair(vec2 a, vec2 b) {
  const vec2 s = two_sum(a.x, b.x);
  precise float lo = s.y + (a.y + b.y);
  return two_sum(s.x, lo);
}
vec2 mul_pair(vec2 a, vec2 b) {
  const vec2 p = two_prod(a.x, b.x);
  precise float lo = p.y + (a.x * b.y + a.y * b.x);
  return two_sum(p.x, lo);
}

// e^x rounded to the nearest float, as the CPU's std::exp (glibc's expf, correctly rounded but
// for rare near-ties). x = k ln2 + r with ln2 in three parts (k * L1 exact), r as a pair, e^r by
// its Taylor series to r^12 (|r| <= 0.35: the rest is < 2^-47) in pair arithmetic for the terms
// that need it, then scaled by 2^k. ~300 flops: for softmax weights and SiLU, not for loops.
float exp_rn(float x) {
  if (isnan(x)) return x;
  if (!(x > -104.0)) return 0.0;                  // e^x < 2^-150 rounds to 0 (also x = -inf)
  if (x > 88.75) return uintBitsToFloat(0x7f800000u);  // above FLT_MAX
  precise float k = roundEven(x * 1.44269502);
  precise float r0 = x - k * 0.693145751953125;   // L1: k * L1 and the difference are exact
  const vec2 p2 = two_prod(k, 1.428606765e-06);   // L2
  const vec2 r1 = two_sum(r0, -p2.x);
  precise float lo = (r1.y - p2.y) - k * 5.497923148e-14;  // L3
  const vec2 r = two_sum(r1.x, lo);
  precise float t = 2.087675588e-09;               // 1/12!, then down to 1/8! in floats
  t = t * r.x + 2.505210794e-08;
  t = t * r.x + 2.755731998e-07;
  t = t * r.x + 2.755731884e-06;
  t = t * r.x + 2.480158764e-05;
  const vec2 c[8] = vec2[8](vec2(1.0, 0.0), vec2(1.0, 0.0), vec2(0.5, 0.0),
                            vec2(1.666666716e-01, -4.967053879e-09), vec2(4.166666791e-02, -1.241763470e-09),
                            vec2(8.333333768e-03, -4.346172033e-10), vec2(1.388888923e-03, -3.363109444e-11),
                            vec2(1.984127011e-04, -2.725596875e-12));
  vec2 e = vec2(t, 0.0);
  for (int n = 7; n >= 0; --n) e = add_pair(mul_pair(e, r), c[n]);
  precise float y = e.x + e.y;
  return ldexp(y, int(k));
}
