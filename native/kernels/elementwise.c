/* Elementwise passes over flat float arrays; task t covers elements [t·chunk, min(n, (t+1)·chunk)). */
#include "kernels.h"

#define RANGE(t, chunk, n) const size_t lo = (size_t)(t) * (chunk), hi = lo + (chunk) < (size_t)(n) ? lo + (chunk) : (size_t)(n)

/* args: a, b, out, n, chunk. out = a + b (out may be a). */
void k_ew_add(const int32_t *args, int t0, int t1) {
  const float *a = MEMF(args[0]);
  const float *b = MEMF(args[1]);
  float *o = MEMF(args[2]);
  for (int t = t0; t < t1; t++) {
    RANGE(t, args[4], args[3]);
    for (size_t i = lo; i < hi; i++) o[i] = a[i] + b[i];
  }
}

/* args: list (byte offsets of the inputs), count, out, n, chunk. out = Σ inputs, added left to right. */
void k_ew_addn(const int32_t *args, int t0, int t1) {
  const int32_t *list = MEMI(args[0]);
  const int cnt = args[1];
  float *o = MEMF(args[2]);
  for (int t = t0; t < t1; t++) {
    RANGE(t, args[4], args[3]);
    const float *a = MEMF(list[0]);
    const float *b = MEMF(list[1]);
    for (size_t i = lo; i < hi; i++) o[i] = a[i] + b[i];
    for (int j = 2; j < cnt; j++) {
      const float *c = MEMF(list[j]);
      for (size_t i = lo; i < hi; i++) o[i] += c[i];
    }
  }
}

/* args: x, out, n, chunk. out = max(x, 0). */
void k_ew_relu(const int32_t *args, int t0, int t1) {
  const float *x = MEMF(args[0]);
  float *o = MEMF(args[1]);
  for (int t = t0; t < t1; t++) {
    RANGE(t, args[3], args[2]);
    for (size_t i = lo; i < hi; i++) o[i] = x[i] > 0 ? x[i] : 0;
  }
}

/* args: ref, g, out, n, chunk. out = ref > 0 ? g : 0 (ReLU's backward). */
void k_ew_mask(const int32_t *args, int t0, int t1) {
  const float *r = MEMF(args[0]);
  const float *g = MEMF(args[1]);
  float *o = MEMF(args[2]);
  for (int t = t0; t < t1; t++) {
    RANGE(t, args[4], args[3]);
    for (size_t i = lo; i < hi; i++) o[i] = r[i] > 0 ? g[i] : 0;
  }
}

/* args: x, alpha (float), out, n, chunk. out = alpha·x. */
void k_ew_scale(const int32_t *args, int t0, int t1) {
  const float *x = MEMF(args[0]);
  const float s = ARGF(args, 1);
  float *o = MEMF(args[2]);
  for (int t = t0; t < t1; t++) {
    RANGE(t, args[4], args[3]);
    for (size_t i = lo; i < hi; i++) o[i] = x[i] * s;
  }
}

/* args: a, b, part (f64 per task), n, chunk. part[t] = Σ a·b in float64. */
void k_dot_f64(const int32_t *args, int t0, int t1) {
  const float *a = MEMF(args[0]);
  const float *b = MEMF(args[1]);
  double *part = MEMD(args[2]);
  for (int t = t0; t < t1; t++) {
    RANGE(t, args[4], args[3]);
    double s = 0;
    for (size_t i = lo; i < hi; i++) s += (double)a[i] * b[i];
    part[t] = s;
  }
}
