/* Copies between NHWC layouts: channel slices (concatenation and its adjoint) and spatial crops (FactorizedReduce). */
#include "kernels.h"

/*
 * args: src (0: zeros), dst, rows, c, src_stride, dst_stride, rows_per_task. dst[r·dst_stride + q] =
 * src[r·src_stride + q] for q < c (offsets in floats, the slice's first channel already added to the pointers).
 */
void k_chan_copy(const int32_t *a, int t0, int t1) {
  const float *src = a[0] ? MEMF(a[0]) : 0;
  float *dst = MEMF(a[1]);
  const int rows = a[2], c = a[3], ss = a[4], ds = a[5], rpt = a[6];
  for (int t = t0; t < t1; t++) {
    const int r1 = (t + 1) * rpt < rows ? (t + 1) * rpt : rows;
    for (int r = t * rpt; r < r1; r++) {
      float *o = dst + (ptrdiff_t)r * ds;
      if (src) {
        const float *i = src + (ptrdiff_t)r * ss;
        for (int q = 0; q < c; q++) o[q] = i[q];
      } else {
        for (int q = 0; q < c; q++) o[q] = 0;
      }
    }
  }
}

/*
 * args: src, dst, n, h, w, c, top, left, uncrop. Crop: dst [n][h−top][w−left][c] = src[:, top:, left:, :] with src
 * [n][h][w][c]. Uncrop (its adjoint): dst [n][h][w][c] with src [n][h−top][w−left][c] placed at (top, left), zeros
 * in front. Task = one dst row.
 */
void k_crop(const int32_t *a, int t0, int t1) {
  const float *src = MEMF(a[0]);
  float *dst = MEMF(a[1]);
  const int h = a[3], w = a[4], c = a[5], top = a[6], left = a[7], uncrop = a[8];
  const int h2 = h - top, w2 = w - left;
  for (int t = t0; t < t1; t++) {
    if (!uncrop) {
      const int img = t / h2, i = t % h2;
      const float *s = src + (((ptrdiff_t)img * h + i + top) * w + left) * c;
      float *o = dst + (ptrdiff_t)t * w2 * c;
      for (ptrdiff_t q = 0; q < (ptrdiff_t)w2 * c; q++) o[q] = s[q];
    } else {
      const int img = t / h, i = t % h;
      float *o = dst + (ptrdiff_t)t * w * c;
      if (i < top) {
        for (ptrdiff_t q = 0; q < (ptrdiff_t)w * c; q++) o[q] = 0;
        continue;
      }
      const float *s = src + ((ptrdiff_t)img * h2 + i - top) * w2 * c;
      for (ptrdiff_t q = 0; q < (ptrdiff_t)left * c; q++) o[q] = 0;
      for (ptrdiff_t q = 0; q < (ptrdiff_t)w2 * c; q++) o[left * c + q] = s[q];
    }
  }
}
