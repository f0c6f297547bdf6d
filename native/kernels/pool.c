/* Pooling and the classifier: average pools (padding not counted, as PyTorch count_include_pad=False), global average
 * pool, and the small linear layer. */
#include "kernels.h"

/* args: x, out, h, w, c, ho, wo, k, s, p. Task = one output row (image · ho + oy). */
void k_avgpool_fwd(const int32_t *a, int t0, int t1) {
  const float *x = MEMF(a[0]);
  float *out = MEMF(a[1]);
  const int h = a[2], w = a[3], c = a[4], ho = a[5], wo = a[6], k = a[7], s = a[8], p = a[9];
  for (int task = t0; task < t1; task++) {
    const int img = task / ho, oy = task % ho;
    int y0 = oy * s - p, y1 = y0 + k;
    y0 = y0 < 0 ? 0 : y0;
    y1 = y1 > h ? h : y1;
    for (int ox = 0; ox < wo; ox++) {
      int x0 = ox * s - p, x1 = x0 + k;
      x0 = x0 < 0 ? 0 : x0;
      x1 = x1 > w ? w : x1;
      float *o = out + ((size_t)task * wo + ox) * c;
      for (int q = 0; q < c; q++) o[q] = 0;
      for (int y = y0; y < y1; y++)
        for (int xx = x0; xx < x1; xx++) {
          const float *src = x + (((size_t)img * h + y) * w + xx) * c;
          for (int q = 0; q < c; q++) o[q] += src[q];
        }
      const float inv = 1.0f / (float)((y1 - y0) * (x1 - x0));
      for (int q = 0; q < c; q++) o[q] *= inv;
    }
  }
}

/* The adjoint of avgpool_fwd as a gather: args g (dy), dx, h, w, c, ho, wo, k, s, p. Task = one dx row. */
void k_avgpool_bwd(const int32_t *a, int t0, int t1) {
  const float *g = MEMF(a[0]);
  float *dx = MEMF(a[1]);
  const int h = a[2], w = a[3], c = a[4], ho = a[5], wo = a[6], k = a[7], s = a[8], p = a[9];
  for (int task = t0; task < t1; task++) {
    const int img = task / h, iy = task % h;
    /* windows oy with oy·s − p ≤ iy < oy·s − p + k */
    int oy0 = iy + p - k + 1 <= 0 ? 0 : (iy + p - k + 1 + s - 1) / s;
    int oy1 = (iy + p) / s + 1;
    oy1 = oy1 > ho ? ho : oy1;
    for (int ix = 0; ix < w; ix++) {
      float *o = dx + ((size_t)task * w + ix) * c;
      for (int q = 0; q < c; q++) o[q] = 0;
      int ox0 = ix + p - k + 1 <= 0 ? 0 : (ix + p - k + 1 + s - 1) / s;
      int ox1 = (ix + p) / s + 1;
      ox1 = ox1 > wo ? wo : ox1;
      for (int oy = oy0; oy < oy1; oy++) {
        int y0 = oy * s - p, y1 = y0 + k;
        y0 = y0 < 0 ? 0 : y0;
        y1 = y1 > h ? h : y1;
        for (int ox = ox0; ox < ox1; ox++) {
          int x0 = ox * s - p, x1 = x0 + k;
          x0 = x0 < 0 ? 0 : x0;
          x1 = x1 > w ? w : x1;
          const float inv = 1.0f / (float)((y1 - y0) * (x1 - x0));
          const float *src = g + (((size_t)img * ho + oy) * wo + ox) * c;
          for (int q = 0; q < c; q++) o[q] += src[q] * inv;
        }
      }
    }
  }
}

/* args: x, out, per (positions per image), c. out[n][k] = mean over positions (float sum, then / per). Task = image. */
void k_gap_fwd(const int32_t *a, int t0, int t1) {
  const float *x = MEMF(a[0]);
  float *out = MEMF(a[1]);
  const int per = a[2], c = a[3];
  for (int n = t0; n < t1; n++) {
    float *o = out + (size_t)n * c;
    for (int k = 0; k < c; k++) o[k] = 0;
    for (int pos = 0; pos < per; pos++) {
      const float *src = x + ((size_t)n * per + pos) * c;
      for (int k = 0; k < c; k++) o[k] += src[k];
    }
    for (int k = 0; k < c; k++) o[k] /= (float)per;
  }
}

/* args: g, dx, per, c. dx[n][pos][k] = g[n][k] / per. Task = image. */
void k_gap_bwd(const int32_t *a, int t0, int t1) {
  const float *g = MEMF(a[0]);
  float *dx = MEMF(a[1]);
  const int per = a[2], c = a[3];
  for (int n = t0; n < t1; n++) {
    const float *gn = g + (size_t)n * c;
    for (int pos = 0; pos < per; pos++) {
      float *o = dx + ((size_t)n * per + pos) * c;
      for (int k = 0; k < c; k++) o[k] = gn[k] / (float)per;
    }
  }
}

/* args: x [n][f], w [o][f], bias (0: none), y [n][o], f, o. Task = sample. */
void k_linear_fwd(const int32_t *a, int t0, int t1) {
  const float *x = MEMF(a[0]);
  const float *w = MEMF(a[1]);
  const float *b = a[2] ? MEMF(a[2]) : 0;
  float *y = MEMF(a[3]);
  const int nf = a[4], no = a[5];
  for (int n = t0; n < t1; n++)
    for (int o = 0; o < no; o++) {
      float s = 0;
      for (int f = 0; f < nf; f++) s += x[(size_t)n * nf + f] * w[(size_t)o * nf + f];
      y[(size_t)n * no + o] = b ? s + b[o] : s;
    }
}

/* args: g [n][o], w [o][f], gx [n][f], f, o. gx = g·w. Task = sample. */
void k_linear_bwd_input(const int32_t *a, int t0, int t1) {
  const float *g = MEMF(a[0]);
  const float *w = MEMF(a[1]);
  float *gx = MEMF(a[2]);
  const int nf = a[3], no = a[4];
  for (int n = t0; n < t1; n++) {
    float *o = gx + (size_t)n * nf;
    for (int f = 0; f < nf; f++) o[f] = 0;
    for (int q = 0; q < no; q++) {
      const float gv = g[(size_t)n * no + q];
      for (int f = 0; f < nf; f++) o[f] += gv * w[(size_t)q * nf + f];
    }
  }
}

/* args: g [n][o], x [n][f], gw [o][f], gb (0: none), n, f, o. gw = gᵀ·x, gb = Σ_n g. Task = output feature. */
void k_linear_bwd_weight(const int32_t *a, int t0, int t1) {
  const float *g = MEMF(a[0]);
  const float *x = MEMF(a[1]);
  float *gw = MEMF(a[2]);
  float *gb = a[3] ? MEMF(a[3]) : 0;
  const int nn = a[4], nf = a[5], no = a[6];
  for (int q = t0; q < t1; q++) {
    float *o = gw + (size_t)q * nf;
    for (int f = 0; f < nf; f++) o[f] = 0;
    float sb = 0;
    for (int n = 0; n < nn; n++) {
      const float gv = g[(size_t)n * no + q];
      sb += gv;
      for (int f = 0; f < nf; f++) o[f] += gv * x[(size_t)n * nf + f];
    }
    if (gb) gb[q] = sb;
  }
}
