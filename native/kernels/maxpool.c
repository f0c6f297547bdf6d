/*
 * Max pooling with PyTorch's rules: padded positions never win, the first maximum in row-major window order takes
 * ties (a scan with `v > best`), and NaN propagates. The forward records each output's flat input index (int32), the
 * backward adds every output's gradient into the input it came from, as a gather over the windows holding an input,
 * in ascending output order (the order of the scatter loop it replaces, so the float sums are the same).
 */
#include "kernels.h"

/* args: x, y, arg (int32, 0: none), h, w, c, ho, wo, k, s, p. Task = one output row (image · ho + oy). */
void k_maxpool_fwd(const int32_t *a, int t0, int t1) {
  const float *x = MEMF(a[0]);
  float *y = MEMF(a[1]);
  int32_t *arg = a[2] ? MEMI(a[2]) : 0;
  const int h = a[3], w = a[4], c = a[5], ho = a[6], wo = a[7], k = a[8], s = a[9], p = a[10];
  for (int task = t0; task < t1; task++) {
    const int img = task / ho, oy = task % ho;
    int y0 = oy * s - p, y1 = y0 + k;
    y0 = y0 < 0 ? 0 : y0;
    y1 = y1 > h ? h : y1;
    for (int ox = 0; ox < wo; ox++) {
      int x0 = ox * s - p, x1 = x0 + k;
      x0 = x0 < 0 ? 0 : x0;
      x1 = x1 > w ? w : x1;
      const ptrdiff_t o = ((ptrdiff_t)task * wo + ox) * c;
      float *best = y + o;
      const ptrdiff_t first = (((ptrdiff_t)img * h + y0) * w + x0) * c;
      for (int q = 0; q < c; q++) best[q] = x[first + q];
      if (arg)
        for (int q = 0; q < c; q++) arg[o + q] = (int32_t)(first + q);
      for (int yy = y0; yy < y1; yy++)
        for (int xx = (yy == y0 ? x0 + 1 : x0); xx < x1; xx++) {
          const ptrdiff_t i = (((ptrdiff_t)img * h + yy) * w + xx) * c;
          const float *src = x + i;
          if (arg) {
            for (int q = 0; q < c; q++) {
              const float v = src[q], b = best[q];
              if (v > b || (v != v && b == b)) {
                best[q] = v;
                arg[o + q] = (int32_t)(i + q);
              }
            }
          } else {
            for (int q = 0; q < c; q++) {
              const float v = src[q], b = best[q];
              if (v > b || (v != v && b == b)) best[q] = v;
            }
          }
        }
    }
  }
}

/*
 * args: g (dy), arg, dx, h, w, c, ho, wo, k, s, p. dx[i] = Σ g[o] over outputs o with arg[o] = i, o ascending.
 * Task = one dx row (image · h + iy).
 */
void k_maxpool_bwd(const int32_t *a, int t0, int t1) {
  const float *g = MEMF(a[0]);
  const int32_t *arg = MEMI(a[1]);
  float *dx = MEMF(a[2]);
  const int h = a[3], w = a[4], c = a[5], ho = a[6], wo = a[7], k = a[8], s = a[9], p = a[10];
  for (int task = t0; task < t1; task++) {
    const int img = task / h, iy = task % h;
    /* windows oy with oy·s − p ≤ iy < oy·s − p + k */
    int oy0 = iy + p - k + 1 <= 0 ? 0 : (iy + p - k + 1 + s - 1) / s;
    int oy1 = (iy + p) / s + 1;
    oy1 = oy1 > ho ? ho : oy1;
    for (int ix = 0; ix < w; ix++) {
      const ptrdiff_t i = ((ptrdiff_t)task * w + ix) * c;
      float *o = dx + i;
      for (int q = 0; q < c; q++) o[q] = 0;
      int ox0 = ix + p - k + 1 <= 0 ? 0 : (ix + p - k + 1 + s - 1) / s;
      int ox1 = (ix + p) / s + 1;
      ox1 = ox1 > wo ? wo : ox1;
      for (int oy = oy0; oy < oy1; oy++)
        for (int ox = ox0; ox < ox1; ox++) {
          const ptrdiff_t src = (((ptrdiff_t)img * ho + oy) * wo + ox) * c;
          for (int q = 0; q < c; q++)
            if (arg[src + q] == (int32_t)(i + q)) o[q] += g[src + q];
        }
    }
  }
}

/* args: x, idx (int32), out, n, chunk. out[i] = x[idx[i]] (the tangent of a max pool). Task = a chunk. */
void k_gather_idx(const int32_t *a, int t0, int t1) {
  const float *x = MEMF(a[0]);
  const int32_t *idx = MEMI(a[1]);
  float *o = MEMF(a[2]);
  const int n = a[3], chunk = a[4];
  for (int t = t0; t < t1; t++) {
    const int lo = t * chunk, hi = lo + chunk < n ? lo + chunk : n;
    for (int i = lo; i < hi; i++) o[i] = x[idx[i]];
  }
}
