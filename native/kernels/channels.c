/*
 * Per-channel passes over [positions][C] activations (BatchNorm and friends). Reductions: each task sums a fixed run of
 * positions in float64 into its own partial (the caller adds the partials in task order), like PyTorch's CPU
 * BatchNorm, which accumulates its statistics in double. Elementwise per-channel maps: task = a run of positions.
 */
#include "kernels.h"

/* args: x, part (f64, c per task), m, c, rows_per_task. part[t][k] = Σ x[pos][k]. */
void k_chan_sum(const int32_t *a, int t0, int t1) {
  const float *x = MEMF(a[0]);
  double *part = MEMD(a[1]);
  const int m = a[2], c = a[3], rpt = a[4];
  for (int t = t0; t < t1; t++) {
    double *p = part + (size_t)t * c;
    for (int k = 0; k < c; k++) p[k] = 0;
    const int e = (t + 1) * rpt < m ? (t + 1) * rpt : m;
    for (int pos = t * rpt; pos < e; pos++) {
      const float *row = x + (size_t)pos * c;
      for (int k = 0; k < c; k++) p[k] += row[k];
    }
  }
}

/* args: x, mean (f64, c), part (f64, c per task), m, c, rows_per_task. part[t][k] = Σ (x[pos][k] − mean[k])². */
void k_chan_sqdev(const int32_t *a, int t0, int t1) {
  const float *x = MEMF(a[0]);
  const double *mean = MEMD(a[1]);
  double *part = MEMD(a[2]);
  const int m = a[3], c = a[4], rpt = a[5];
  for (int t = t0; t < t1; t++) {
    double *p = part + (size_t)t * c;
    for (int k = 0; k < c; k++) p[k] = 0;
    const int e = (t + 1) * rpt < m ? (t + 1) * rpt : m;
    for (int pos = t * rpt; pos < e; pos++) {
      const float *row = x + (size_t)pos * c;
      for (int k = 0; k < c; k++) {
        double d = (double)row[k] - mean[k];
        p[k] += d * d;
      }
    }
  }
}

/* args: x, y, part (f64, 2c per task), m, c, rows_per_task. part[t][k] = Σ y, part[t][c + k] = Σ x·y (x·y in float64). */
void k_chan_dot(const int32_t *a, int t0, int t1) {
  const float *x = MEMF(a[0]);
  const float *y = MEMF(a[1]);
  double *part = MEMD(a[2]);
  const int m = a[3], c = a[4], rpt = a[5];
  for (int t = t0; t < t1; t++) {
    double *ps = part + (size_t)t * 2 * c;
    double *pd = ps + c;
    for (int k = 0; k < 2 * c; k++) ps[k] = 0;
    const int e = (t + 1) * rpt < m ? (t + 1) * rpt : m;
    for (int pos = t * rpt; pos < e; pos++) {
      const float *xr = x + (size_t)pos * c;
      const float *yr = y + (size_t)pos * c;
      for (int k = 0; k < c; k++) {
        ps[k] += yr[k];
        pd[k] += (double)xr[k] * yr[k];
      }
    }
  }
}

/*
 * args: x, s, b, out, m, c, mode, g (0: none), beta, out2, rows_per_task.
 * mode 0: out = x·s[k] + b[k]; mode 1: out = (x − b[k])·s[k]. With g: also out2 = out·g[k] + beta[k] (BatchNorm's x̂ and y
 * in one pass).
 */
void k_chan_affine(const int32_t *a, int t0, int t1) {
  const float *x = MEMF(a[0]);
  const float *s = MEMF(a[1]);
  const float *b = MEMF(a[2]);
  float *out = MEMF(a[3]);
  const int m = a[4], c = a[5], mode = a[6];
  const float *g = a[7] ? MEMF(a[7]) : 0;
  const float *beta = MEMF(a[8]);
  float *out2 = MEMF(a[9]);
  const int rpt = a[10];
  for (int t = t0; t < t1; t++) {
    const int e = (t + 1) * rpt < m ? (t + 1) * rpt : m;
    for (int pos = t * rpt; pos < e; pos++) {
      const float *xr = x + (size_t)pos * c;
      float *o = out + (size_t)pos * c;
      if (mode == 0)
        for (int k = 0; k < c; k++) o[k] = xr[k] * s[k] + b[k];
      else
        for (int k = 0; k < c; k++) o[k] = (xr[k] - b[k]) * s[k];
      if (g) {
        float *o2 = out2 + (size_t)pos * c;
        for (int k = 0; k < c; k++) o2[k] = o[k] * g[k] + beta[k];
      }
    }
  }
}

/* args: x, s, y, out, m, c, rows_per_task. out = x·s[k] + y. */
void k_chan_affine2(const int32_t *a, int t0, int t1) {
  const float *x = MEMF(a[0]);
  const float *s = MEMF(a[1]);
  const float *y = MEMF(a[2]);
  float *out = MEMF(a[3]);
  const int m = a[4], c = a[5], rpt = a[6];
  for (int t = t0; t < t1; t++) {
    const int e = (t + 1) * rpt < m ? (t + 1) * rpt : m;
    for (int pos = t * rpt; pos < e; pos++) {
      const size_t o = (size_t)pos * c;
      for (int k = 0; k < c; k++) out[o + k] = x[o + k] * s[k] + y[o + k];
    }
  }
}

/* args: g, xhat, av, bv, sv, out, m, c, rows_per_task. out = s[k]·(g − a[k] − x̂·b[k]) (BatchNorm's Jacobian product). */
void k_bn_out(const int32_t *a, int t0, int t1) {
  const float *g = MEMF(a[0]);
  const float *xh = MEMF(a[1]);
  const float *av = MEMF(a[2]);
  const float *bv = MEMF(a[3]);
  const float *sv = MEMF(a[4]);
  float *out = MEMF(a[5]);
  const int m = a[6], c = a[7], rpt = a[8];
  for (int t = t0; t < t1; t++) {
    const int e = (t + 1) * rpt < m ? (t + 1) * rpt : m;
    for (int pos = t * rpt; pos < e; pos++) {
      const size_t o = (size_t)pos * c;
      for (int k = 0; k < c; k++) out[o + k] = sv[k] * (g[o + k] - av[k] - xh[o + k] * bv[k]);
    }
  }
}

/* args: x, g, out (f64 [images][c]), per (positions per image), c. out[n][k] = Σ_pos x·g (Fisher). Task = image. */
void k_sample_chan_dot(const int32_t *a, int t0, int t1) {
  const float *x = MEMF(a[0]);
  const float *g = MEMF(a[1]);
  double *out = MEMD(a[2]);
  const int per = a[3], c = a[4];
  for (int n = t0; n < t1; n++) {
    double *o = out + (size_t)n * c;
    for (int k = 0; k < c; k++) o[k] = 0;
    for (int pos = 0; pos < per; pos++) {
      const size_t q = ((size_t)n * per + pos) * c;
      for (int k = 0; k < c; k++) o[k] += (double)x[q + k] * g[q + k];
    }
  }
}
