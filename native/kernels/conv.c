/*
 * Convolutions (NHWC activations, filters [kh][kw][Ci][Co]) as register-blocked direct loops.
 *
 * conv_rows computes output pixels as  out[p][o] = bias[o] + Σ_taps Σ_k in[base(p) + toff[t] + k] · w[twoff[t] + k·ldw + o]
 * on an input that is already zero-padded, so every tap is in bounds. With the right tap list and strides this one
 * kernel is the forward convolution (any kernel size and stride), the input gradient of a stride-1 convolution
 * (dy padded by k−1−p, filter transposed) and each stride phase of a strided one. A block of R output pixels × V
 * vectors of output channels stays in registers; per (tap, k) it loads V filter vectors and broadcasts R inputs.
 *
 * conv_wgrad computes per task (a fixed run of output rows) the filter-gradient partial sums
 *   part[t][tap][i][o] = Σ_cells in[cell + toff[tap] + i] · dy[cell][o],
 * with R input channels × V vectors of output channels in registers while it walks the task's cells; the partials
 * are added in task order (reduce_partials, in float64), so the result does not depend on the thread count.
 */
#include "kernels.h"

#if VW == 4
/* 16 vector registers (V8 on x86-64): rows of pixels per block for 1..4 vectors of channels. */
#define R_FOR_V(v) ((v) == 1 ? 6 : (v) == 2 ? 4 : (v) == 3 ? 3 : 2)
#define WG_R_FOR_V(v) ((v) == 1 ? 6 : 4)
#else
/* 32 vector registers (AVX-512). */
#define R_FOR_V(v) ((v) == 1 ? 14 : (v) == 2 ? 12 : (v) == 3 ? 7 : 6)
#define WG_R_FOR_V(v) ((v) == 1 ? 14 : 10)
#endif
#define VMAX 4
#define WG_VMAX 2
#define RMAXALL 14
/* Register blocks must be fully unrolled: gcc otherwise keeps some accumulator blocks in memory (3.5x slower at
 * 64 channels). clang unrolls them anyway, and its wasm code is slower with the pragma. */
#if defined(__GNUC__) && !defined(__clang__)
#define UNROLL _Pragma("GCC unroll 16")
#else
#define UNROLL
#endif

INLINE void mk_conv(const float *in, int ipx, const float *w, int ldw, const int32_t *taps, int ntaps, int K, const float *bias,
                    float *out, int opx, int last, int accumulate, const int R, const int V) {
  vf acc[RMAXALL][VMAX];
  UNROLL
  for (int v = 0; v < V; v++) {
    vf b0 = bias ? vload(bias + v * VW) : vzero();
    UNROLL
    for (int r = 0; r < R; r++) acc[r][v] = b0;
  }
  for (int t = 0; t < ntaps; t++) {
    const float *px = in + taps[2 * t];
    const float *pw = w + taps[2 * t + 1];
    for (int k = 0; k < K; k++) {
      vf wv[VMAX];
      UNROLL
      for (int v = 0; v < V; v++) wv[v] = vload(pw + v * VW);
      pw += ldw;
      UNROLL
      for (int r = 0; r < R; r++) {
        vf xs = vsplat(px[r * ipx]);
        UNROLL
        for (int v = 0; v < V; v++) acc[r][v] += xs * wv[v];
      }
      px++;
    }
  }
  UNROLL
  for (int r = 0; r < R; r++) {
    float *o = out + r * opx;
    UNROLL
    for (int v = 0; v < V; v++) {
      if (v == V - 1 && last < VW) {
        /* Through a scratch vector: indexing acc's lanes makes gcc keep the whole block in memory. */
        float lane[VW];
        vstore(lane, acc[r][v]);
        for (int i = 0; i < last; i++) o[v * VW + i] = accumulate ? o[v * VW + i] + lane[i] : lane[i];
      } else {
        vstore(o + v * VW, accumulate ? vload(o + v * VW) + acc[r][v] : acc[r][v]);
      }
    }
  }
}

#define MK(R, V) mk_conv(in, ipx, w, ldw, taps, ntaps, K, bias, out, opx, last, accumulate, R, V)
static void mk_conv_any(const float *in, int ipx, const float *w, int ldw, const int32_t *taps, int ntaps, int K, const float *bias,
                        float *out, int opx, int last, int accumulate, int R, int V) {
  /* Every (R, V) the drivers ask for, spelled out so each variant is compiled with constant trip counts. */
#define C(r, v) \
  if (R == r && V == v) { MK(r, v); return; }
#if VW == 4
  C(6, 1) C(5, 1) C(4, 1) C(3, 1) C(2, 1) C(1, 1)
  C(4, 2) C(3, 2) C(2, 2) C(1, 2)
  C(3, 3) C(2, 3) C(1, 3)
  C(2, 4) C(1, 4)
#else
  C(14, 1) C(13, 1) C(12, 1) C(11, 1) C(10, 1) C(9, 1) C(8, 1) C(7, 1) C(6, 1) C(5, 1) C(4, 1) C(3, 1) C(2, 1) C(1, 1)
  C(12, 2) C(11, 2) C(10, 2) C(9, 2) C(8, 2) C(7, 2) C(6, 2) C(5, 2) C(4, 2) C(3, 2) C(2, 2) C(1, 2)
  C(7, 3) C(6, 3) C(5, 3) C(4, 3) C(3, 3) C(2, 3) C(1, 3)
  C(6, 4) C(5, 4) C(4, 4) C(3, 4) C(2, 4) C(1, 4)
#endif
#undef C
}

/*
 * args: in, w, bias (0: none), out, taps (pairs toff, twoff), ntaps, K, ldw, co (channels written), rows (per image),
 *       cols, in_img, in_row, in_px, in_off, out_img, out_row, out_px, out_off, accumulate.
 * Offsets and strides are in floats. Task = one output row (image · rows + row).
 */
void k_conv_rows(const int32_t *a, int t0, int t1) {
  const float *in0 = MEMF(a[0]);
  const float *w0 = MEMF(a[1]);
  const float *bias0 = a[2] ? MEMF(a[2]) : 0;
  float *out0 = MEMF(a[3]);
  const int32_t *taps = MEMI(a[4]);
  const int ntaps = a[5], K = a[6], ldw = a[7], co = a[8], rows = a[9], cols = a[10];
  const int in_img = a[11], in_row = a[12], ipx = a[13], in_off = a[14];
  const int out_img = a[15], out_row = a[16], opx = a[17], out_off = a[18], accumulate = a[19];
  const int nvec = (co + VW - 1) / VW;
  for (int task = t0; task < t1; task++) {
    const int img = task / rows, row = task % rows;
    const float *inr = in0 + (size_t)img * in_img + (size_t)row * in_row + in_off;
    float *outr = out0 + (size_t)img * out_img + (size_t)row * out_row + out_off;
    for (int v0 = 0; v0 < nvec; v0 += VMAX) {
      const int V = nvec - v0 < VMAX ? nvec - v0 : VMAX;
      const int last = (v0 + V == nvec) ? co - (nvec - 1) * VW : VW;
      const int Rb = R_FOR_V(V);
      const float *w = w0 + v0 * VW;
      const float *bias = bias0 ? bias0 + v0 * VW : 0;
      for (int x = 0; x < cols; x += Rb) {
        const int R = cols - x < Rb ? cols - x : Rb;
        mk_conv_any(inr + (size_t)x * ipx, ipx, w, ldw, taps, ntaps, K, bias, outr + (size_t)x * opx + v0 * VW, opx, last, accumulate, R, V);
      }
    }
  }
}

INLINE void mk_wgrad(const float *x, int x_row, int ipx, const float *dy, int dy_row, int dcs, int nrows, int cols, float *part, int pstride,
                     const int R, const int V) {
  vf acc[RMAXALL][WG_VMAX];
  UNROLL
  for (int r = 0; r < R; r++)
    UNROLL
    for (int v = 0; v < V; v++) acc[r][v] = vzero();
  for (int row = 0; row < nrows; row++) {
    const float *px = x + (size_t)row * x_row;
    const float *pd = dy + (size_t)row * dy_row;
    for (int c = 0; c < cols; c++) {
      vf dv[WG_VMAX];
      UNROLL
      for (int v = 0; v < V; v++) dv[v] = vload(pd + v * VW);
      UNROLL
      for (int r = 0; r < R; r++) {
        vf xs = vsplat(px[r]);
        UNROLL
        for (int v = 0; v < V; v++) acc[r][v] += xs * dv[v];
      }
      px += ipx;
      pd += dcs;
    }
  }
  UNROLL
  for (int r = 0; r < R; r++)
    UNROLL
    for (int v = 0; v < V; v++) vstore(part + (size_t)r * pstride + v * VW, acc[r][v]);
}

static void mk_wgrad_any(const float *x, int x_row, int ipx, const float *dy, int dy_row, int dcs, int nrows, int cols, float *part, int pstride, int R, int V) {
#define C(r, v) \
  if (R == r && V == v) { mk_wgrad(x, x_row, ipx, dy, dy_row, dcs, nrows, cols, part, pstride, r, v); return; }
#if VW == 4
  C(6, 1) C(5, 1) C(4, 1) C(3, 1) C(2, 1) C(1, 1)
  C(4, 2) C(3, 2) C(2, 2) C(1, 2)
#else
  C(14, 1) C(13, 1) C(12, 1) C(11, 1) C(10, 1) C(9, 1) C(8, 1) C(7, 1) C(6, 1) C(5, 1) C(4, 1) C(3, 1) C(2, 1) C(1, 1)
  C(10, 2) C(9, 2) C(8, 2) C(7, 2) C(6, 2) C(5, 2) C(4, 2) C(3, 2) C(2, 2) C(1, 2)
#endif
#undef C
}

/*
 * args: x (padded input), dy (dcs floats per cell, dcs a multiple of VW), part, taps (pairs, toff used), ntaps, ci, dcs,
 *       rows (output rows per image), cols, x_img, x_row, x_px, rows_per_task, total_rows (images · rows).
 * Unit u = task · ntaps + tap sums output rows [task·rows_per_task, …) for that tap into part + task · ntaps·ci·dcs,
 * laid out [tap][i][o]. Units of one task write disjoint sums, so splitting by tap (more units to share between
 * threads when there are few row runs) leaves every value as it was.
 */
void k_conv_wgrad(const int32_t *a, int t0, int t1) {
  const float *x0 = MEMF(a[0]);
  const float *dy0 = MEMF(a[1]);
  float *part0 = MEMF(a[2]);
  const int32_t *taps = MEMI(a[3]);
  const int ntaps = a[4], ci = a[5], dcs = a[6], rows = a[7], cols = a[8];
  const int x_img = a[9], x_row = a[10], ipx = a[11], rpt = a[12], total = a[13];
  const int nvec = dcs / VW;
  const size_t psize = (size_t)ntaps * ci * dcs;
  for (int u = t0; u < t1; u++) {
    const int task = u / ntaps, t = u % ntaps;
    float *part = part0 + (size_t)task * psize;
    const int r0 = task * rpt;
    const int r1 = r0 + rpt < total ? r0 + rpt : total;
    /* Runs of rows within one image (a task may straddle images). */
    for (int rs = r0; rs < r1;) {
      const int img = rs / rows, oy = rs % rows;
      const int n = (rows - oy) < (r1 - rs) ? rows - oy : r1 - rs;
      const float *xs = x0 + (size_t)img * x_img + (size_t)oy * x_row;
      const float *ds = dy0 + ((size_t)img * rows + oy) * cols * dcs;
      const int first = rs == r0;
      {
        const float *xt = xs + taps[2 * t];
        for (int v0 = 0; v0 < nvec; v0 += WG_VMAX) {
          const int V = nvec - v0 < WG_VMAX ? nvec - v0 : WG_VMAX;
          const int Rmax = WG_R_FOR_V(V);
          const int nb = (ci + Rmax - 1) / Rmax;
          for (int b = 0, i0 = 0; b < nb; b++) {
            const int R = ci / nb + (b < ci % nb ? 1 : 0);
            float *p = part + ((size_t)t * ci + i0) * dcs + v0 * VW;
            if (first) {
              mk_wgrad_any(xt + i0, x_row, ipx, ds + v0 * VW, cols * dcs, dcs, n, cols, p, dcs, R, V);
            } else {
              /* A later run of the same task: add its sums (rare: only where a task crosses an image). */
              float tmp[RMAXALL * WG_VMAX * VW];
              mk_wgrad_any(xt + i0, x_row, ipx, ds + v0 * VW, cols * dcs, dcs, n, cols, tmp, WG_VMAX * VW, R, V);
              UNROLL
              for (int r = 0; r < R; r++)
                for (int j = 0; j < V * VW; j++) p[(size_t)r * dcs + j] += tmp[r * WG_VMAX * VW + j];
            }
            i0 += R;
          }
        }
      }
      rs += n;
    }
  }
}

/*
 * args: part, nparts, out, rows, pcs (floats per row in a partial), co (floats per row written), accumulate.
 * out[row][o] (+)= Σ_p part[p][row][o] summed in float64 in p order. Task = one row.
 */
void k_reduce_partials(const int32_t *a, int t0, int t1) {
  const float *part = MEMF(a[0]);
  const int nparts = a[1];
  float *out = MEMF(a[2]);
  const int rows = a[3], pcs = a[4], co = a[5], accumulate = a[6];
  const size_t psize = (size_t)rows * pcs;
  for (int row = t0; row < t1; row++) {
    for (int o = 0; o < co; o++) {
      double s = 0;
      const float *p = part + (size_t)row * pcs + o;
      for (int q = 0; q < nparts; q++) s += p[q * psize];
      if (accumulate)
        out[(size_t)row * co + o] += (float)s;
      else
        out[(size_t)row * co + o] = (float)s;
    }
  }
}

/*
 * args: in, out, h, w, c, hp, wp, top, left, relu, cout. out[n][y+top][x+left][k] = in[n][y][x][k] (ReLU'd if relu),
 * zeros elsewhere, cout ≥ c floats per output pixel. Task = one output row (image · hp + row).
 */
void k_pad_copy(const int32_t *a, int t0, int t1) {
  const float *in = MEMF(a[0]);
  float *out = MEMF(a[1]);
  const int h = a[2], w = a[3], c = a[4], hp = a[5], wp = a[6], top = a[7], left = a[8], relu = a[9], cout = a[10];
  for (int task = t0; task < t1; task++) {
    const int img = task / hp, y = task % hp;
    float *o = out + (size_t)task * wp * cout;
    const int iy = y - top;
    if (iy < 0 || iy >= h) {
      for (int i = 0; i < wp * cout; i++) o[i] = 0;
      continue;
    }
    const float *src = in + ((size_t)img * h + iy) * w * c;
    for (int i = 0; i < left * cout; i++) o[i] = 0;
    float *d = o + left * cout;
    if (c == cout) {
      if (relu)
        for (int i = 0; i < w * c; i++) d[i] = src[i] > 0 ? src[i] : 0;
      else
        for (int i = 0; i < w * c; i++) d[i] = src[i];
    } else {
      for (int x = 0; x < w; x++) {
        for (int k = 0; k < c; k++) {
          float v = src[x * c + k];
          d[x * cout + k] = relu && !(v > 0) ? 0 : v;
        }
        for (int k = c; k < cout; k++) d[x * cout + k] = 0;
      }
    }
    for (int i = (left + w) * cout; i < wp * cout; i++) o[i] = 0;
  }
}

/*
 * args: src [taps][ci][co], dst, taps, ci, co, ld, transpose. Forward layout dst[t][i][o] with ld ≥ co floats per i;
 * transposed dst[t][o][i] with ld ≥ ci floats per o (the input gradient's filter). Padding lanes are zero.
 * Task = one tap.
 */
void k_pack_filter(const int32_t *a, int t0, int t1) {
  const float *src = MEMF(a[0]);
  float *dst = MEMF(a[1]);
  const int ci = a[3], co = a[4], ld = a[5], transpose = a[6];
  for (int t = t0; t < t1; t++) {
    const float *s = src + (size_t)t * ci * co;
    if (!transpose) {
      float *d = dst + (size_t)t * ci * ld;
      for (int i = 0; i < ci; i++) {
        for (int o = 0; o < co; o++) d[i * ld + o] = s[i * co + o];
        for (int o = co; o < ld; o++) d[i * ld + o] = 0;
      }
    } else {
      float *d = dst + (size_t)t * co * ld;
      for (int o = 0; o < co; o++) {
        for (int i = 0; i < ci; i++) d[o * ld + i] = s[i * co + o];
        for (int i = ci; i < ld; i++) d[o * ld + i] = 0;
      }
    }
  }
}
