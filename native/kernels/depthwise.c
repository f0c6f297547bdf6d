/*
 * Depthwise convolution (one k×k filter per channel, any stride, dilation and symmetric padding; NHWC activations,
 * filter [k][k][C]): forward, input gradient and filter gradient. Channels are the vector lanes; every lane computes
 * exactly what the scalar loop computes, so a result does not depend on the vector width (WebAssembly or native), on
 * how the channels are split into vectors, or on the threads.
 *
 * Two precisions for forward and input gradient, chosen per call:
 *   exact = 1  each tap does acc = float(double(acc) + double(f)·double(x)): the product is exact in double and the
 *              sum is rounded to double, then to float. That is what JavaScript's `y[o] += f[t] * x[i]` on Float32Arrays
 *              computes, so these kernels give the bits of the loops they replace (DARTS' networks, whose numbers
 *              must not move);
 *   exact = 0  acc = acc + f·x in float (product rounded, then the sum): ~3× faster, for new networks.
 * Both sum the taps of an output in one fixed order starting from 0. The filter gradient likewise: exactly as the
 * JavaScript loop (every output pixel in order, in double, rounded once: k_dw_wgrad), or in float over fixed runs of
 * rows whose partial sums the caller adds in double (k_dw_wgrad_f32).
 *
 * Out-of-range taps are skipped, never read as padding zeros, so no padded copy of the input is made.
 */
#include "kernels.h"

typedef float vf4 __attribute__((vector_size(16), aligned(4)));
typedef float vf1 __attribute__((vector_size(4), aligned(4)));
typedef double vd4 __attribute__((vector_size(32), aligned(8)));
typedef double vd1 __attribute__((vector_size(8), aligned(8)));

/* Conversions between float and double vectors. GCC lowers __builtin_convertvector between 4 floats and 4 doubles into
 * halves and shuffles; on x86 the AVX instructions do it in one step each way. */
#define CONVERTERS(SUF, FT, DT)                                                     \
  INLINE DT to_d##SUF(FT v) { return __builtin_convertvector(v, DT); }              \
  INLINE FT to_f##SUF(DT v) { return __builtin_convertvector(v, FT); }
#if !defined(__wasm__) && defined(__AVX__)
#include <immintrin.h>
INLINE vd4 to_d4(vf4 v) { return (vd4)_mm256_cvtps_pd((__m128)v); }
INLINE vf4 to_f4(vd4 v) { return (vf4)_mm256_cvtpd_ps((__m256d)v); }
#else
CONVERTERS(4, vf4, vd4)
#endif
CONVERTERS(1, vf1, vd1)

#define MAXTAPS 64 /* k ≤ 8 */

/*
 * Fast blocks: R output pixels (out + r·opx) of one vector of channels, out = Σ_t f[ft_t] · in[r·ipx + it_t] over the
 * T taps in list order (taps = pairs it_t, ft_t, in floats). R is a compile-time constant in every call.
 */
#if VW == 4
#define RB_FAST 6
#else
#define RB_FAST 8
#endif
#define DEFINE_FAST(SUF, FT)                                                                                                 \
  INLINE void fast_##SUF(const float *in, ptrdiff_t ipx, const float *f, const int32_t *taps, int T, float *out,             \
                         ptrdiff_t opx, const int R) {                                                                       \
    FT acc[RB_FAST];                                                                                                         \
    for (int r = 0; r < R; r++) acc[r] = (FT){0};                                                                            \
    for (int t = 0; t < T; t++) {                                                                                            \
      const FT fv = *(const FT *)(f + taps[2 * t + 1]);                                                                      \
      const float *px = in + taps[2 * t];                                                                                    \
      for (int r = 0; r < R; r++) acc[r] += fv * *(const FT *)(px + r * ipx);                                                \
    }                                                                                                                        \
    for (int r = 0; r < R; r++) *(FT *)(out + r * opx) = acc[r];                                                            \
  }                                                                                                                          \
  static void fast_##SUF##_any(const float *in, ptrdiff_t ipx, const float *f, const int32_t *taps, int T, float *out,      \
                               ptrdiff_t opx, int R) {                                                                       \
    switch (R) {                                                                                                             \
      FAST_CASES(SUF)                                                                                                        \
      default:                                                                                                               \
        for (int r = 0; r < R; r++) fast_##SUF(in + r * ipx, ipx, f, taps, T, out + r * opx, opx, 1);                       \
        return;                                                                                                              \
    }                                                                                                                        \
  }
#define CASE_F(SUF, r) case r: fast_##SUF(in, ipx, f, taps, T, out, opx, r); return;
#if VW == 4
#define FAST_CASES(SUF) CASE_F(SUF, 6) CASE_F(SUF, 5) CASE_F(SUF, 4) CASE_F(SUF, 3) CASE_F(SUF, 2)
#else
#define FAST_CASES(SUF) CASE_F(SUF, 8) CASE_F(SUF, 7) CASE_F(SUF, 6) CASE_F(SUF, 5) CASE_F(SUF, 4) CASE_F(SUF, 3) CASE_F(SUF, 2)
#endif
DEFINE_FAST(w, vf)
#if VW > 4
DEFINE_FAST(4, vf4)
#endif
DEFINE_FAST(1, vf1)

/*
 * Exact blocks: R pixels × G groups of LN lanes (4, or single lanes). Each tap's sum goes through double and back to
 * float, a chain of three dependent operations, so a block keeps R·G independent chains in flight (G > 1 matters at
 * the borders, where a block is one pixel).
 */
#if VW == 4
#define RB_EXACT 2 /* 16 vector registers: R·G ≤ 4 accumulators of two registers each */
#define GB_EXACT(R) ((R) == 1 ? 4 : 2)
#else
#define RB_EXACT 3
#define GB_EXACT(R) 4
#endif
#define DEFINE_EXACT(SUF, FT, DT, LN)                                                                                        \
  INLINE void exact_##SUF(const float *in, ptrdiff_t ipx, const float *f, const int32_t *taps, int T, float *out,            \
                          ptrdiff_t opx, const int R, const int G) {                                                         \
    DT acc[RB_EXACT][4];                                                                                                     \
    for (int r = 0; r < R; r++)                                                                                              \
      for (int g = 0; g < G; g++) acc[r][g] = (DT){0};                                                                       \
    for (int t = 0; t < T; t++) {                                                                                            \
      const float *pf = f + taps[2 * t + 1];                                                                                 \
      const float *px = in + taps[2 * t];                                                                                    \
      for (int g = 0; g < G; g++) {                                                                                          \
        const DT fd = to_d##SUF(*(const FT *)(pf + g * LN));                                                                 \
        for (int r = 0; r < R; r++) {                                                                                        \
          const DT xd = to_d##SUF(*(const FT *)(px + r * ipx + g * LN));                                                     \
          acc[r][g] = to_d##SUF(to_f##SUF(acc[r][g] + fd * xd));                                                             \
        }                                                                                                                    \
      }                                                                                                                      \
    }                                                                                                                        \
    for (int r = 0; r < R; r++)                                                                                              \
      for (int g = 0; g < G; g++) *(FT *)(out + r * opx + g * LN) = to_f##SUF(acc[r][g]);                                    \
  }                                                                                                                          \
  static void exact_##SUF##_any(const float *in, ptrdiff_t ipx, const float *f, const int32_t *taps, int T, float *out,     \
                                ptrdiff_t opx, int R, int G) {                                                               \
    switch (R * 8 + G) {                                                                                                     \
      EXACT_CASES(SUF)                                                                                                       \
      default: /* any other shape, one pixel and group at a time */                                                          \
        for (int r = 0; r < R; r++)                                                                                          \
          for (int g = 0; g < G; g++) exact_##SUF(in + r * ipx + g * LN, ipx, f + g * LN, taps, T, out + r * opx + g * LN, opx, 1, 1); \
        return;                                                                                                              \
    }                                                                                                                        \
  }
#define CASE_E(SUF, r, g) case r * 8 + g: exact_##SUF(in, ipx, f, taps, T, out, opx, r, g); return;
#if VW == 4
#define EXACT_CASES(SUF) CASE_E(SUF, 1, 4) CASE_E(SUF, 1, 3) CASE_E(SUF, 1, 2) CASE_E(SUF, 2, 2) CASE_E(SUF, 2, 1)
#else
#define EXACT_CASES(SUF)                                                                                                     \
  CASE_E(SUF, 1, 4) CASE_E(SUF, 1, 3) CASE_E(SUF, 1, 2) CASE_E(SUF, 2, 4) CASE_E(SUF, 2, 3) CASE_E(SUF, 2, 2)               \
  CASE_E(SUF, 2, 1) CASE_E(SUF, 3, 4) CASE_E(SUF, 3, 3) CASE_E(SUF, 3, 2) CASE_E(SUF, 3, 1)
#endif
DEFINE_EXACT(4, vf4, vd4, 4)
DEFINE_EXACT(1, vf1, vd1, 1)

/* R pixels (R ≤ the mode's block) over every channel. */
static void dw_pixels(const float *in, ptrdiff_t ipx, const float *f, const int32_t *taps, int T, float *out, ptrdiff_t opx, int c, int R,
                      int exact) {
  int q = 0;
  if (exact) {
    while (q + 4 <= c) {
      const int gmax = GB_EXACT(R), groups = (c - q) / 4;
      const int G = groups < gmax ? groups : gmax;
      exact_4_any(in + q, ipx, f + q, taps, T, out + q, opx, R, G);
      q += 4 * G;
    }
    while (q < c) {
      const int gmax = GB_EXACT(R);
      const int G = c - q < gmax ? c - q : gmax;
      exact_1_any(in + q, ipx, f + q, taps, T, out + q, opx, R, G);
      q += G;
    }
    return;
  }
  for (; q + VW <= c; q += VW) fast_w_any(in + q, ipx, f + q, taps, T, out + q, opx, R);
#if VW > 4
  for (; q + 4 <= c; q += 4) fast_4_any(in + q, ipx, f + q, taps, T, out + q, opx, R);
#endif
  for (; q < c; q++) fast_1_any(in + q, ipx, f + q, taps, T, out + q, opx, R);
}

/* A run of n pixels sharing one tap list, in register blocks. */
static void dw_run(const float *in, ptrdiff_t ipx, const float *f, const int32_t *taps, int T, float *out, ptrdiff_t opx, int c, int n,
                   int exact) {
  const int rb = exact ? RB_EXACT : RB_FAST;
  for (int j = 0; j < n; j += rb) {
    const int R = n - j < rb ? n - j : rb;
    dw_pixels(in + j * ipx, ipx, f, taps, T, out + j * opx, opx, c, R, exact);
  }
}

/*
 * args: x, f, y, h, w, c, ho, wo, k, s, p, d, exact. y[oy][ox] = Σ_{a,e} f[a][e]·x[oy·s − p + a·d][ox·s − p + e·d], taps
 * in row-major (a, e) order. Task = one output row (image · ho + oy).
 */
void k_dw_fwd(const int32_t *a, int t0, int t1) {
  const float *x = MEMF(a[0]);
  const float *f = MEMF(a[1]);
  float *y = MEMF(a[2]);
  const int h = a[3], w = a[4], c = a[5], ho = a[6], wo = a[7], k = a[8], s = a[9], p = a[10], d = a[11], exact = a[12];
  int32_t taps[2 * MAXTAPS];
  /* Columns whose whole window is inside the image: [xa, xb). */
  int xa = (p + s - 1) / s;
  const int num = w - 1 + p - (k - 1) * d;
  int xb = num < 0 ? 0 : num / s + 1;
  if (xa > wo) xa = wo;
  if (xb > wo) xb = wo;
  if (xb < xa) xb = xa;
  for (int task = t0; task < t1; task++) {
    const int img = task / ho, oy = task % ho;
    const int iy0 = oy * s - p;
    const ptrdiff_t rowbase = ((ptrdiff_t)img * h + iy0) * w;
    float *yr = y + (ptrdiff_t)task * wo * c;
    /* Interior columns: every in-range tap row, every column tap. */
    int T = 0;
    for (int ta = 0; ta < k; ta++) {
      const int iy = iy0 + ta * d;
      if (iy < 0 || iy >= h) continue;
      for (int te = 0; te < k; te++) {
        taps[2 * T] = (ta * d * w + te * d) * c;
        taps[2 * T + 1] = (ta * k + te) * c;
        T++;
      }
    }
    if (xb > xa) dw_run(x + (rowbase + xa * s - p) * c, (ptrdiff_t)s * c, f, taps, T, yr + (ptrdiff_t)xa * c, c, c, xb - xa, exact);
    /* Border columns: only the in-range column taps. */
    for (int ox = 0; ox < wo; ox++) {
      if (ox == xa) ox = xb;
      if (ox >= wo) break;
      const int ix0 = ox * s - p;
      int Tb = 0;
      for (int ta = 0; ta < k; ta++) {
        const int iy = iy0 + ta * d;
        if (iy < 0 || iy >= h) continue;
        for (int te = 0; te < k; te++) {
          const int ix = ix0 + te * d;
          if (ix < 0 || ix >= w) continue;
          taps[2 * Tb] = (ta * d * w + te * d) * c;
          taps[2 * Tb + 1] = (ta * k + te) * c;
          Tb++;
        }
      }
      dw_pixels(x + (rowbase + ix0) * c, c, f, taps, Tb, yr + (ptrdiff_t)ox * c, c, c, 1, exact);
    }
  }
}

/*
 * args: dy, f, dx, h, w, c, ho, wo, k, s, p, d, exact. dx[iy][ix] = Σ f[a][e]·dy[oy][ox] over the outputs whose window
 * holds (iy, ix), in ascending (oy, ox) order — the order in which the scatter loop this replaces added them — i.e.
 * taps in descending (a, e) order. Columns go by stride phase φ = ix mod s: pixels ix = φ + s·j read dy columns
 * j + off(e), so the pixels of one phase share a tap list away from the borders. Task = one dx row (image · h + iy).
 */
void k_dw_bwd_input(const int32_t *a, int t0, int t1) {
  const float *dy = MEMF(a[0]);
  const float *f = MEMF(a[1]);
  float *dx = MEMF(a[2]);
  const int h = a[3], w = a[4], c = a[5], ho = a[6], wo = a[7], k = a[8], s = a[9], p = a[10], d = a[11], exact = a[12];
  int32_t taps[2 * MAXTAPS];
  int offs[8], es[8];
  for (int task = t0; task < t1; task++) {
    const int img = task / h, iy = task % h;
    const float *dyi = dy + (ptrdiff_t)img * ho * wo * c;
    float *dxr = dx + (ptrdiff_t)task * w * c;
    int rows[8], oys[8], nr = 0;
    for (int ta = k - 1; ta >= 0; ta--) {
      const int num = iy + p - ta * d;
      if (num < 0 || num % s != 0 || num / s >= ho) continue;
      rows[nr] = ta;
      oys[nr++] = num / s;
    }
    for (int ph = 0; ph < s && ph < w; ph++) {
      const int nj = (w - ph + s - 1) / s;
      /* Column taps of this phase (descending e) and their dy column offsets. */
      int ne = 0, ja = 0, jb = nj;
      for (int te = k - 1; te >= 0; te--) {
        const int num = ph + p - te * d;
        if (((num % s) + s) % s != 0) continue;
        es[ne] = te;
        offs[ne] = num / s;
        if (-offs[ne] > ja) ja = -offs[ne];
        if (wo - offs[ne] < jb) jb = wo - offs[ne];
        ne++;
      }
      if (ja > nj) ja = nj;
      if (jb < ja) jb = ja;
      int T = 0;
      for (int i = 0; i < nr; i++)
        for (int q = 0; q < ne; q++) {
          taps[2 * T] = (oys[i] * wo + offs[q]) * c;
          taps[2 * T + 1] = (rows[i] * k + es[q]) * c;
          T++;
        }
      const ptrdiff_t ostride = (ptrdiff_t)s * c;
      if (jb > ja) dw_run(dyi + (ptrdiff_t)ja * c, c, f, taps, T, dxr + (ptrdiff_t)(ph + s * ja) * c, ostride, c, jb - ja, exact);
      for (int j = 0; j < nj; j++) {
        if (j == ja) j = jb;
        if (j >= nj) break;
        int Tb = 0;
        for (int i = 0; i < nr; i++)
          for (int q = 0; q < ne; q++) {
            const int ox = j + offs[q];
            if (ox < 0 || ox >= wo) continue;
            taps[2 * Tb] = (oys[i] * wo + offs[q]) * c;
            taps[2 * Tb + 1] = (rows[i] * k + es[q]) * c;
            Tb++;
          }
        dw_pixels(dyi + (ptrdiff_t)j * c, c, f, taps, Tb, dxr + (ptrdiff_t)(ph + s * j) * c, c, c, 1, exact);
      }
    }
  }
}

/*
 * One row of the filter gradient for one vector of lanes (pointers already at its first lane): r[e] += x[ix(ox, e)]·dy[ox]
 * for ox ascending, the k running sums (ar + e·c, doubles or floats) in registers over the row. K is a compile-time
 * constant for k = 3, 5, 7 (the loops unroll; the sums stay in registers); columns whose taps are all in range skip the
 * bounds checks. Columns are visited in order either way, so every sum sees its terms in the same order.
 */
#define DEFINE_WG(SUF, FT, AT, ACC, CONV)                                                                               \
  INLINE void wgk_##SUF(const float *xr, const float *dyr, AT *ar, int w, int c, int wo, const int K, int s, int p,   \
                        int d, int xa, int xb) {                                                                      \
    ACC r[8];                                                                                                         \
    for (int te = 0; te < K; te++) r[te] = *(ACC *)(ar + (ptrdiff_t)te * c);                                          \
    for (int ox = 0; ox < wo; ox++) {                                                                                 \
      const ACC g = CONV(*(const FT *)(dyr + (ptrdiff_t)ox * c));                                                     \
      const int ix0 = ox * s - p;                                                                                     \
      if (ox >= xa && ox < xb) {                                                                                      \
        for (int te = 0; te < K; te++) r[te] += CONV(*(const FT *)(xr + (ptrdiff_t)(ix0 + te * d) * c)) * g;          \
      } else {                                                                                                        \
        for (int te = 0; te < K; te++) {                                                                              \
          const int ix = ix0 + te * d;                                                                                \
          if (ix < 0 || ix >= w) continue;                                                                            \
          r[te] += CONV(*(const FT *)(xr + (ptrdiff_t)ix * c)) * g;                                                   \
        }                                                                                                             \
      }                                                                                                               \
    }                                                                                                                 \
    for (int te = 0; te < K; te++) *(ACC *)(ar + (ptrdiff_t)te * c) = r[te];                                          \
  }                                                                                                                   \
  static void wg_##SUF(const float *xr, const float *dyr, AT *ar, int w, int c, int wo, int k, int s, int p, int d,    \
                       int xa, int xb) {                                                                              \
    switch (k) {                                                                                                      \
      case 3: wgk_##SUF(xr, dyr, ar, w, c, wo, 3, s, p, d, xa, xb); return;                                           \
      case 5: wgk_##SUF(xr, dyr, ar, w, c, wo, 5, s, p, d, xa, xb); return;                                           \
      case 7: wgk_##SUF(xr, dyr, ar, w, c, wo, 7, s, p, d, xa, xb); return;                                           \
      default: wgk_##SUF(xr, dyr, ar, w, c, wo, k, s, p, d, xa, xb); return;                                          \
    }                                                                                                                 \
  }

#define SAME(v) (v)
DEFINE_WG(d4, vf4, double, vd4, to_d4) /* double sums, 4 lanes */
DEFINE_WG(d1, vf1, double, vd1, to_d1)
DEFINE_WG(fw, vf, float, vf, SAME) /* float sums, whole vectors */
#if VW > 4
DEFINE_WG(f4, vf4, float, vf4, SAME)
#endif
DEFINE_WG(f1, vf1, float, vf1, SAME)

/* Output columns whose taps are all inside the image: [xa, xb). */
static void interior(int w, int wo, int k, int s, int p, int d, int *xa, int *xb) {
  int a = (p + s - 1) / s;
  const int num = w - 1 + p - (k - 1) * d;
  int b = num < 0 ? 0 : num / s + 1;
  if (a > wo) a = wo;
  if (b > wo) b = wo;
  if (b < a) b = a;
  *xa = a;
  *xb = b;
}

/*
 * args: x, dy, gf, acc (scratch: k·k·c doubles), n, h, w, c, ho, wo, k, s, p, d. gf[a][e] = Σ x·dy over the output
 * pixels in ascending (image, oy, ox) order, summed in double (as the JavaScript loop did), rounded once. Task = a
 * channel group (4 lanes; the last c mod 4 channels one lane each); a run of tasks sweeps the tensors once, its groups
 * side by side. Each group's sums are its own, so the split into tasks and threads never changes a value.
 */
void k_dw_wgrad(const int32_t *a, int t0, int t1) {
  const float *x = MEMF(a[0]);
  const float *dy = MEMF(a[1]);
  float *gf = MEMF(a[2]);
  double *acc = MEMD(a[3]);
  const int n = a[4], h = a[5], w = a[6], c = a[7], ho = a[8], wo = a[9], k = a[10], s = a[11], p = a[12], d = a[13];
  const int full = c / 4;
  const int qlo = t0 <= full ? 4 * t0 : 4 * full + (t0 - full), qhi = t1 <= full ? 4 * t1 : 4 * full + (t1 - full);
  int xa, xb;
  interior(w, wo, k, s, p, d, &xa, &xb);
  for (int t = 0; t < k * k; t++)
    for (int q = qlo; q < qhi; q++) acc[(ptrdiff_t)t * c + q] = 0;
  for (int img = 0; img < n; img++)
    for (int oy = 0; oy < ho; oy++) {
      const float *dyr = dy + (((ptrdiff_t)img * ho + oy) * wo) * c;
      for (int ta = 0; ta < k; ta++) {
        const int iy = oy * s - p + ta * d;
        if (iy < 0 || iy >= h) continue;
        const float *xr = x + (((ptrdiff_t)img * h + iy) * w) * c;
        double *ar = acc + (ptrdiff_t)ta * k * c;
        for (int g = t0; g < t1; g++) {
          const int q = g < full ? 4 * g : 4 * full + (g - full);
          if (g < full)
            wg_d4(xr + q, dyr + q, ar + q, w, c, wo, k, s, p, d, xa, xb);
          else
            wg_d1(xr + q, dyr + q, ar + q, w, c, wo, k, s, p, d, xa, xb);
        }
      }
    }
  for (int t = 0; t < k * k; t++)
    for (int q = qlo; q < qhi; q++) gf[(ptrdiff_t)t * c + q] = (float)acc[(ptrdiff_t)t * c + q];
}

/*
 * The float filter gradient: args x, dy, part, n, h, w, c, ho, wo, k, s, p, d, rows_per_task. Task t sums, in float and
 * in pixel order, the output rows [t·rows_per_task, …) (image · ho + oy) into part + t·k·k·c, laid out [a][e][c]; the
 * caller adds the partials in double in task order (reduce_partials). The rows per task are fixed by the geometry, so
 * the result does not depend on the threads.
 */
void k_dw_wgrad_f32(const int32_t *a, int t0, int t1) {
  const float *x = MEMF(a[0]);
  const float *dy = MEMF(a[1]);
  float *part0 = MEMF(a[2]);
  const int n = a[3], h = a[4], w = a[5], c = a[6], ho = a[7], wo = a[8], k = a[9], s = a[10], p = a[11], d = a[12], rpt = a[13];
  int xa, xb;
  interior(w, wo, k, s, p, d, &xa, &xb);
  for (int t = t0; t < t1; t++) {
    float *part = part0 + (ptrdiff_t)t * k * k * c;
    for (ptrdiff_t i = 0; i < (ptrdiff_t)k * k * c; i++) part[i] = 0;
    const int r1 = (t + 1) * rpt < n * ho ? (t + 1) * rpt : n * ho;
    for (int row = t * rpt; row < r1; row++) {
      const int img = row / ho, oy = row % ho;
      const float *dyr = dy + (ptrdiff_t)row * wo * c;
      for (int ta = 0; ta < k; ta++) {
        const int iy = oy * s - p + ta * d;
        if (iy < 0 || iy >= h) continue;
        const float *xr = x + (((ptrdiff_t)img * h + iy) * w) * c;
        float *ar = part + (ptrdiff_t)ta * k * c;
        int q = 0;
        for (; q + VW <= c; q += VW) wg_fw(xr + q, dyr + q, ar + q, w, c, wo, k, s, p, d, xa, xb);
#if VW > 4
        for (; q + 4 <= c; q += 4) wg_f4(xr + q, dyr + q, ar + q, w, c, wo, k, s, p, d, xa, xb);
#endif
        for (; q < c; q++) wg_f1(xr + q, dyr + q, ar + q, w, c, wo, k, s, p, d, xa, xb);
      }
    }
  }
}
