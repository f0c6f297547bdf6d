/*
 * Pointwise activations of mobile networks (ReLU6, hard-swish, hard-sigmoid, sigmoid, SiLU) with their first and
 * second derivatives (the backward pass, and the tangents of GraSP's Hessian-vector product), and the per-image
 * channel scale of squeeze-and-excitation. Transcendentals use exp_d below, written with basic double operations only,
 * so WebAssembly and native give the same bits. Where PyTorch defines a kink's derivative, ours is the same
 * (ReLU6: 0 at 0 and 6; hard-swish: x/3 + 1/2 on [−3, 3]; hard-sigmoid: 1/6 on (−3, 3)).
 */
#include "kernels.h"

/* e^x for x in [−708, 709]: x = k·ln2 + r, |r| ≤ ln2/2, Taylor series to r¹² (relative error < 2e−16), times 2^k. */
static double exp_d(double x) {
  const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  const double kf = __builtin_floor(x * 1.44269504088896338700e+00 + 0.5);
  const double r = (x - kf * ln2_hi) - kf * ln2_lo;
  double p = 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  union {
    double d;
    uint64_t u;
  } scale;
  scale.u = (uint64_t)((int64_t)kf + 1023) << 52;
  return p * scale.d;
}

/* σ(x) in double (NaN stays NaN; σ(±∞) = 1, 0 exactly, so SiLU(−∞) = −∞·0 = NaN as in PyTorch). */
static double sigmoid_d(double x) {
  if (x != x) return x;
  if (x == 1.0 / 0.0) return 1;
  if (x == -1.0 / 0.0) return 0;
  const double m = x > 708 ? 708 : x < -709 ? -709 : x;
  return 1.0 / (1.0 + exp_d(-m));
}

enum { ACT_RELU6 = 0, ACT_HARDSWISH = 1, ACT_HARDSIGMOID = 2, ACT_SIGMOID = 3, ACT_SILU = 4 };

static float act_f(int op, float x) {
  switch (op) {
    case ACT_RELU6:
      return x != x ? x : x <= 0 ? 0.0f : x < 6 ? x : 6.0f;
    case ACT_HARDSWISH: {
      /* PyTorch: x · min(max(x + 3, 0), 6) / 6 */
      float t = x + 3.0f;
      t = t > 0 ? (t < 6 ? t : 6.0f) : (t != t ? t : 0.0f);
      return x * t / 6.0f;
    }
    case ACT_HARDSIGMOID: {
      float t = x + 3.0f;
      t = t > 0 ? (t < 6 ? t : 6.0f) : (t != t ? t : 0.0f);
      return t / 6.0f;
    }
    case ACT_SIGMOID:
      return (float)sigmoid_d(x);
    default:
      return (float)((double)x * sigmoid_d(x));
  }
}

/* f'(x) and f''(x) in double. */
static void act_d(int op, float x, double *d1, double *d2) {
  switch (op) {
    case ACT_RELU6:
      *d1 = x > 0 && x < 6 ? 1 : 0;
      *d2 = 0;
      return;
    case ACT_HARDSWISH:
      *d1 = x < -3 ? 0 : x <= 3 ? (double)x / 3 + 0.5 : 1;
      *d2 = x > -3 && x < 3 ? 1.0 / 3 : 0;
      return;
    case ACT_HARDSIGMOID:
      *d1 = x > -3 && x < 3 ? 1.0 / 6 : 0;
      *d2 = 0;
      return;
    case ACT_SIGMOID: {
      const double s = sigmoid_d(x);
      *d1 = s * (1 - s);
      *d2 = s * (1 - s) * (1 - 2 * s);
      return;
    }
    default: {
      const double s = sigmoid_d(x);
      *d1 = s * (1 + x * (1 - s));
      *d2 = s * (1 - s) * (2 + x * (1 - 2 * s));
      return;
    }
  }
}

/*
 * args: op, mode, x, a, b, c, out, n, chunk. mode 0: out = f(x); mode 1: out = f'(x)·a; mode 2: out = f'(x)·a +
 * f''(x)·b·c with a = 0 meaning no first term (the dual backward: x̄̇ = f'·ȳ̇ + f''·ẋ·ȳ). Derivative products are
 * formed in double and rounded once; a zero derivative gives an exact 0 (never 0·∞). Task = a chunk of elements.
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
    if (mode == 0) {
      for (int i = lo; i < hi; i++) o[i] = act_f(op, x[i]);
      continue;
    }
    for (int i = lo; i < hi; i++) {
      double d1, d2;
      act_d(op, x[i], &d1, &d2);
      double v = 0;
      if (a && d1 != 0) v = d1 * a[i];
      if (mode == 2 && d2 != 0) v += d2 * ((double)b[i] * c[i]);
      o[i] = (float)v;
    }
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
