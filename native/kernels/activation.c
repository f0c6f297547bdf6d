/*
 * Pointwise activations of mobile networks (ReLU6, hard-swish, hard-sigmoid, sigmoid, SiLU) with their first and
 * second derivatives (the backward pass, and the tangents of GraSP's Hessian-vector product), and the per-image
 * channel scale of squeeze-and-excitation.
 *
 * Everything runs on 4-lane vectors without branches (selects through comparison masks), so both compilers vectorise
 * it and random signs cost no mispredictions. The piecewise activations use PyTorch's float formulas; sigmoid and SiLU
 * are computed in double (exp4 below: basic operations only, so WebAssembly and native give the same bits) and
 * rounded once. Derivatives at the kinks are PyTorch's (ReLU6: 0 at 0 and 6; hard-swish: x/3 + 1/2 on [−3, 3];
 * hard-sigmoid: 1/6 on (−3, 3)), and so are the piecewise ones' backward formulas.
 */
#include "kernels.h"

typedef float f4 __attribute__((vector_size(16), aligned(4)));
typedef int32_t i4 __attribute__((vector_size(16), aligned(4)));
typedef double d4 __attribute__((vector_size(32), aligned(8)));
typedef int64_t l4 __attribute__((vector_size(32), aligned(8)));

INLINE f4 self(i4 m, f4 a, f4 b) { return (f4)(((i4)a & m) | ((i4)b & ~m)); }
INLINE d4 seld(l4 m, d4 a, d4 b) { return (d4)(((l4)a & m) | ((l4)b & ~m)); }
INLINE d4 splatd(double v) { return (d4){v, v, v, v}; }
INLINE f4 splatf(float v) { return (f4){v, v, v, v}; }
INLINE d4 tod(f4 v) { return __builtin_convertvector(v, d4); }
INLINE f4 tof(d4 v) { return __builtin_convertvector(v, f4); }

/*
 * e^x for x in [−708, 709]: x = k·ln2 + r with k rounded to nearest (the 1.5·2^52 trick: k sits in the low bits of
 * t = x/ln2 + 1.5·2^52), |r| ≤ ln2/2, Taylor series to r¹² (relative error < 2e−16), times 2^k built from k's bits.
 */
INLINE d4 exp4(d4 x) {
  const double magic = 6755399441055744.0;
  const d4 t = x * splatd(1.44269504088896338700e+00) + splatd(magic);
  const d4 kf = t - splatd(magic);
  const d4 r = (x - kf * splatd(6.93147180369123816490e-01)) - kf * splatd(1.90821492927058770002e-10);
  d4 p = splatd(1.0 / 479001600.0);
  p = p * r + splatd(1.0 / 39916800.0);
  p = p * r + splatd(1.0 / 3628800.0);
  p = p * r + splatd(1.0 / 362880.0);
  p = p * r + splatd(1.0 / 40320.0);
  p = p * r + splatd(1.0 / 5040.0);
  p = p * r + splatd(1.0 / 720.0);
  p = p * r + splatd(1.0 / 120.0);
  p = p * r + splatd(1.0 / 24.0);
  p = p * r + splatd(1.0 / 6.0);
  p = p * r + splatd(0.5);
  p = p * r + splatd(1.0);
  p = p * r + splatd(1.0);
  const l4 magicBits = (l4)splatd(magic);
  const l4 k = (l4)t - magicBits;
  return p * (d4)((k + 1023) << 52);
}

/* σ(x) in double: NaN stays NaN, σ(±∞) = 1, 0 exactly (so SiLU(−∞) = −∞·0 = NaN, as in PyTorch). */
INLINE d4 sigmoid4(d4 x) {
  d4 m = seld(x > splatd(708), splatd(708), x);
  m = seld(m < splatd(-709), splatd(-709), m);
  d4 s = splatd(1.0) / (splatd(1.0) + exp4(-m));
  s = seld(x == splatd(1.0 / 0.0), splatd(1), s);
  return seld(x == splatd(-1.0 / 0.0), splatd(0), s);
}

/* min(max(v, 0), 6) with NaN propagating (PyTorch's hardtanh). */
INLINE f4 relu6f(f4 v) {
  v = self(v < splatf(0), splatf(0), v);
  return self(v > splatf(6), splatf(6), v);
}

enum { ACT_RELU6 = 0, ACT_HARDSWISH = 1, ACT_HARDSIGMOID = 2, ACT_SIGMOID = 3, ACT_SILU = 4 };

INLINE f4 act_f(int op, f4 x) {
  switch (op) {
    case ACT_RELU6:
      return relu6f(x);
    case ACT_HARDSWISH: /* PyTorch: x · min(max(x + 3, 0), 6) / 6 */
      return x * relu6f(x + splatf(3)) / splatf(6);
    case ACT_HARDSIGMOID:
      return relu6f(x + splatf(3)) / splatf(6);
    case ACT_SIGMOID:
      return tof(sigmoid4(tod(x)));
    default: {
      const d4 xd = tod(x);
      return tof(xd * sigmoid4(xd));
    }
  }
}

/* f'(x) and f''(x) in double (sigmoid, SiLU). */
INLINE void act_d(int op, f4 x, d4 *d1, d4 *d2) {
  const d4 xd = tod(x), one = splatd(1), s = sigmoid4(xd);
  if (op == ACT_SIGMOID) {
    *d1 = s * (one - s);
    *d2 = s * (one - s) * (one - splatd(2) * s);
  } else {
    *d1 = s * (one + xd * (one - s));
    *d2 = s * (one - s) * (splatd(2) + xd * (one - splatd(2) * s));
  }
}

/*
 * One block of 4 elements (see k_ew_act). The piecewise activations' derivatives in float, as PyTorch's backward
 * formulas (ReLU6: g where 0 < x < 6; hard-swish: g·(x/3 + 1/2) on [−3, 3], g above; hard-sigmoid: g/6 on (−3, 3);
 * f'' = 1/3 on (−3, 3) for hard-swish, 0 otherwise); sigmoid and SiLU in double, rounded once. A zero derivative gives
 * an exact 0 (never 0·∞).
 */
INLINE f4 act_block(int op, int mode, f4 x, f4 a, f4 b, f4 c, int has_a) {
  if (mode == 0) return act_f(op, x);
  const f4 zf = splatf(0);
  if (op == ACT_RELU6 || op == ACT_HARDSWISH || op == ACT_HARDSIGMOID) {
    f4 v = zf;
    if (has_a) {
      if (op == ACT_RELU6)
        v = self((x > zf) & (x < splatf(6)), a, zf);
      else if (op == ACT_HARDSWISH)
        v = self(x < splatf(-3), zf, self(x <= splatf(3), a * (x / splatf(3) + splatf(0.5f)), a));
      else
        v = self((x > splatf(-3)) & (x < splatf(3)), a / splatf(6), zf);
    }
    if (mode == 2 && op == ACT_HARDSWISH) v += self((x > splatf(-3)) & (x < splatf(3)), b * c / splatf(3), zf);
    return v;
  }
  d4 d1, d2;
  act_d(op, x, &d1, &d2);
  const d4 zero = splatd(0);
  d4 v = has_a ? seld(d1 != zero, d1 * tod(a), zero) : zero;
  if (mode == 2) v += seld(d2 != zero, d2 * (tod(b) * tod(c)), zero);
  return tof(v);
}

INLINE f4 load4(const float *p) { return p ? *(const f4 *)p : splatf(0); }

static void act_range(int op, int mode, const float *x, const float *a, const float *b, const float *c, float *o, int lo, int hi) {
  int i = lo;
  for (; i + 4 <= hi; i += 4)
    *(f4 *)(o + i) = act_block(op, mode, *(const f4 *)(x + i), load4(a ? a + i : 0), load4(b ? b + i : 0), load4(c ? c + i : 0), a != 0);
  if (i < hi) {
    /* The last 1–3 elements through a zero-padded block (lanes are independent: the same values). */
    float xs[4] = {0}, as[4] = {0}, bs[4] = {0}, cs[4] = {0}, os[4];
    for (int j = 0; i + j < hi; j++) {
      xs[j] = x[i + j];
      if (a) as[j] = a[i + j];
      if (b) bs[j] = b[i + j];
      if (c) cs[j] = c[i + j];
    }
    *(f4 *)os = act_block(op, mode, *(f4 *)xs, *(f4 *)as, *(f4 *)bs, *(f4 *)cs, a != 0);
    for (int j = 0; i + j < hi; j++) o[i + j] = os[j];
  }
}

/*
 * args: op, mode, x, a, b, c, out, n, chunk. mode 0: out = f(x); mode 1: out = f'(x)·a; mode 2: out = f'(x)·a +
 * f''(x)·b·c with a = 0 meaning no first term (the dual backward: x̄̇ = f'·ȳ̇ + f''·ẋ·ȳ). Derivative products are
 * formed in double and rounded once. Task = a chunk of elements.
 */
void k_ew_act(const int32_t *args, int t0, int t1) {
  const int op = args[0], mode = args[1];
  const float *x = MEMF(args[2]);
  const float *a = args[3] ? MEMF(args[3]) : 0;
  const float *b = args[4] ? MEMF(args[4]) : 0;
  const float *c = args[5] ? MEMF(args[5]) : 0;
  float *o = MEMF(args[6]);
  const int n = args[7], chunk = args[8];
  for (int t = t0; t < t1; t++) {
    const int lo = t * chunk, hi = lo + chunk < n ? lo + chunk : n;
    /* One loop per (op, mode), so each is compiled without the switch inside. */
#define RANGE(OP, MODE) act_range(OP, MODE, x, a, b, c, o, lo, hi)
#define MODES(OP)          \
  if (mode == 0)           \
    RANGE(OP, 0);          \
  else if (mode == 1)      \
    RANGE(OP, 1);          \
  else                     \
    RANGE(OP, 2);
    switch (op) {
      case ACT_RELU6: MODES(ACT_RELU6) break;
      case ACT_HARDSWISH: MODES(ACT_HARDSWISH) break;
      case ACT_HARDSIGMOID: MODES(ACT_HARDSIGMOID) break;
      case ACT_SIGMOID: MODES(ACT_SIGMOID) break;
      default: MODES(ACT_SILU) break;
    }
#undef MODES
#undef RANGE
  }
}

/*
 * args: a, s, b, t (0: no second term), out, per (positions per image), c. out[n][p][q] = a·s[n][q] + b·t[n][q]
 * (squeeze-and-excitation's x·gate, and its tangent ẋ·gate + x·gatė). Task = one image.
 */
void k_nc_scale(const int32_t *args, int t0, int t1) {
  const float *a = MEMF(args[0]);
  const float *s = MEMF(args[1]);
  const float *b = args[3] ? MEMF(args[2]) : 0;
  const float *t = args[3] ? MEMF(args[3]) : 0;
  float *o = MEMF(args[4]);
  const int per = args[5], c = args[6];
  for (int img = t0; img < t1; img++) {
    const float *sn = s + (ptrdiff_t)img * c;
    const float *tn = t ? t + (ptrdiff_t)img * c : 0;
    for (int p = 0; p < per; p++) {
      const ptrdiff_t base = ((ptrdiff_t)img * per + p) * c;
      if (tn)
        for (int q = 0; q < c; q++) o[base + q] = a[base + q] * sn[q] + b[base + q] * tn[q];
      else
        for (int q = 0; q < c; q++) o[base + q] = a[base + q] * sn[q];
    }
  }
}
