/*
 * The O(n³) and O(count·n) loops of the Gaussian process behind RoBoT's Bayesian optimisation (src/gp/gp.ts), in C
 * for WebAssembly: V8 runs these loops about half as fast as the same operations compiled to WebAssembly.
 *
 * Every result is bit-identical to the JavaScript loops they replace (src/gp/linalg.ts, src/gp/gp.ts): each value is
 * computed by the same IEEE operations in the same order (no fused multiply-add, no reassociation; SIMD lanes only
 * ever hold independent values), because the reference stream retraces scikit-learn's and bayes_opt's runs and a
 * different last bit can send L-BFGS-B elsewhere. Exponentials and logarithms stay in JavaScript (WebAssembly has
 * none, and another implementation would round differently): callers pass kernel values in, and diagonal entries out.
 *
 * All pointers are byte offsets into the module's own memory, laid out by the caller (src/gp/gp.ts, src/gp/wasm.ts).
 */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))
typedef double f64;

/* L = chol(A), lower, row-major, upper triangle zeroed; only A's lower triangle is read; L may be A. 0 if A is not
 * positive definite (the caller then reports −∞ like sklearn). */
static int cholesky(const f64 *a, int n, f64 *l) {
  for (int i = 0; i < n; i++) {
    const f64 *ai = a + i * n;
    f64 *li = l + i * n;
    for (int j = 0; j <= i; j++) {
      const f64 *lj = l + j * n;
      f64 s = ai[j];
      for (int k = 0; k < j; k++) s -= li[k] * lj[k];
      if (i == j) {
        if (!(s > 0)) return 0;
        li[i] = __builtin_sqrt(s);
      } else {
        li[j] = s / lj[j];
      }
    }
    for (int j = i + 1; j < n; j++) li[j] = 0;
  }
  return 1;
}

/* x = A⁻¹b from A's factor L: forward then back substitution, as linalg.ts choleskySolve. x may be b. */
static void cholesky_solve(const f64 *l, int n, const f64 *b, f64 *x) {
  for (int i = 0; i < n; i++) {
    const f64 *ri = l + i * n;
    f64 s = b[i];
    for (int k = 0; k < i; k++) s -= ri[k] * x[k];
    x[i] = s / ri[i];
  }
  for (int i = n - 1; i >= 0; i--) {
    f64 s = x[i];
    for (int k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
    x[i] = s / l[i * n + i];
  }
}

/*
 * A⁻¹ (full) from L via L⁻¹ and L⁻ᵀL⁻¹, as linalg.ts choleskyInverse: every entry the same sum in the same order. Two
 * columns of L⁻¹ share a register, so they are stored interleaved: column j at row k is mt[(j/2)·2n + 2k + j%2].
 * Column j + 1 is 0 at row j, so its lane starts from 0 − l·0 = +0 there, as the one-column loop starts from 0.
 */
static void cholesky_inverse(const f64 *l, int n, f64 *inv, f64 *mt) {
  for (int q = 0; q < 2 * n * ((n + 1) / 2); q++) mt[q] = 0;
  for (int j = 0; j < n; j += 2) {
    f64 *c = mt + j * n; /* the pair (j, j + 1): 2n values */
    const int pair = j + 1 < n;
    c[2 * j] = 1 / l[j * n + j];
    if (pair) {
      c[2 * (j + 1)] = (0 - l[(j + 1) * n + j] * c[2 * j]) / l[(j + 1) * n + j + 1];
      c[2 * (j + 1) + 1] = 1 / l[(j + 1) * n + j + 1];
    }
    for (int i = j + 1 + pair; i < n; i++) {
      const f64 *ri = l + i * n;
      v128_t s = wasm_f64x2_splat(0);
      for (int k = j; k < i; k++) s = wasm_f64x2_sub(s, wasm_f64x2_mul(wasm_f64x2_splat(ri[k]), wasm_v128_load(c + 2 * k)));
      wasm_v128_store(c + 2 * i, wasm_f64x2_div(s, wasm_f64x2_splat(ri[i])));
    }
  }
  for (int i = 0; i < n; i++) {
    const f64 *ci = mt + (i & ~1) * n + (i & 1); /* column i, stride 2 */
    for (int j = 0; j <= i; j += 2) {
      const f64 *c = mt + j * n;
      v128_t s = wasm_f64x2_splat(0);
      for (int k = i; k < n; k++) s = wasm_f64x2_add(s, wasm_f64x2_mul(wasm_f64x2_splat(ci[2 * k]), wasm_v128_load(c + 2 * k)));
      const f64 s0 = wasm_f64x2_extract_lane(s, 0);
      inv[i * n + j] = s0;
      inv[j * n + i] = s0;
      if (j + 1 <= i) {
        const f64 s1 = wasm_f64x2_extract_lane(s, 1);
        inv[i * n + j + 1] = s1;
        inv[(j + 1) * n + i] = s1;
      }
    }
  }
}

/*
 * The matrix part of the log marginal likelihood and its gradient (gp.ts logMarginalLikelihood): from the Gram matrix
 * K (factorised in place into L) and ∂K/∂log ℓ, with a = K⁻¹y. out[0] = yᵀa, out[1] = Σᵢⱼ (aᵢaⱼ − K⁻¹ᵢⱼ)·∂Kᵢⱼ (only with
 * grad ≠ 0); the caller adds the log-determinant from L's diagonal. Returns 0 when K is not positive definite.
 */
/* mt: n·(n + 1) doubles of workspace (see cholesky_inverse). */
EXPORT(gp_lml) int gp_lml(f64 *k, const f64 *dk, const f64 *y, int n, int grad, f64 *a, f64 *inv, f64 *mt, f64 *out) {
  if (!cholesky(k, n, k)) return 0;
  cholesky_solve(k, n, y, a);
  f64 fit = 0;
  for (int i = 0; i < n; i++) fit += y[i] * a[i];
  out[0] = fit;
  if (grad) {
    cholesky_inverse(k, n, inv, mt);
    f64 g = 0;
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) g += (a[i] * a[j] - inv[i * n + j]) * dk[i * n + j];
    out[1] = g;
  }
  return 1;
}

/*
 * Posterior of `cnt` points from their kernel columns (gp.ts predictBatch / exactBatch): kk is n rows of `stride`
 * values, row i holding k(xᵢ, point q) at q < cnt. Writes mean[q] = Σᵢ αᵢ·kk[i][q] (i increasing) and
 * var[q] = 1 − Σᵢ vᵢ² with v = L⁻¹k (forward substitution in place in kk, row by row). Points are independent, so two
 * share a SIMD register.
 */
EXPORT(gp_posterior) void gp_posterior(f64 *kk, int stride, int cnt, const f64 *l, int n, const f64 *alpha, const f64 *inv_diag, f64 *mean,
                                       f64 *var) {
  int q = 0;
  for (; q + 2 <= cnt; q += 2) {
    v128_t m = wasm_f64x2_splat(0);
    v128_t s = wasm_f64x2_splat(1);
    for (int i = 0; i < n; i++) {
      f64 *row = kk + i * stride + q;
      v128_t x = wasm_v128_load(row);
      m = wasm_f64x2_add(m, wasm_f64x2_mul(wasm_f64x2_splat(alpha[i]), x));
      const f64 *li = l + i * n;
      for (int k = 0; k < i; k++) x = wasm_f64x2_sub(x, wasm_f64x2_mul(wasm_f64x2_splat(li[k]), wasm_v128_load(kk + k * stride + q)));
      x = wasm_f64x2_mul(x, wasm_f64x2_splat(inv_diag[i]));
      wasm_v128_store(row, x);
      s = wasm_f64x2_sub(s, wasm_f64x2_mul(x, x));
    }
    wasm_v128_store(mean + q, m);
    wasm_v128_store(var + q, s);
  }
  for (; q < cnt; q++) {
    f64 m = 0;
    f64 s = 1;
    for (int i = 0; i < n; i++) {
      f64 *row = kk + i * stride + q;
      f64 x = *row;
      m += alpha[i] * x;
      const f64 *li = l + i * n;
      for (int k = 0; k < i; k++) x -= li[k] * kk[k * stride + q];
      x = x * inv_diag[i];
      *row = x;
      s -= x * x;
    }
    mean[q] = m;
    var[q] = s;
  }
}

/*
 * The acquisition sweep's first pass (gp.ts boundBatch), one point at a time: its squared distances to the n training
 * points, dd[p·n + i], summed over coordinates in order (xt holds the training points coordinate-major, xt[m·np + i],
 * np ≥ n even, so two training points share a register), kept for the exact evaluations that follow; then upper
 * bounds on the standardised posterior mean and on the nearest kernel value, from the row while it is in cache.
 *
 * Kernel values come from `table`, k at u = s² = j / steps (s = r/ℓ), by linear interpolation: k is convex in u with
 * k'' ≤ 25/12, so the interpolant is an upper bound (plus `slack` for rounding: the table and the exact evaluation
 * round differently) and at most err = (25/96)/steps² + slack above k.
 * prm: [steps ÷ ℓ², last table index, underflow index (k is exactly 0 beyond), err, slack]. mu[p] = Σᵢ αᵢ·(upper or lower
 * bound of kᵢ, by the sign of αᵢ); kmax[p] = the largest lower bound of a kernel value (the std bound uses the nearest
 * training point). These are only bounds: they decide which points get evaluated exactly, never a result.
 */
EXPORT(gp_sweep) void gp_sweep(const f64 *pts, int count, int dim, const f64 *xt, int np, int n, const f64 *alpha, const f64 *table, const f64 *prm,
                               f64 *dd, f64 *mu, f64 *kmax) {
  const f64 scale = prm[0], last = prm[1], underflow = prm[2], err = prm[3], slack = prm[4];
  const f64 far = table[(int)last];
  const v128_t vslack = wasm_f64x2_splat(slack);
  const v128_t vscale = wasm_f64x2_splat(scale), vlast = wasm_f64x2_splat(last), vunder = wasm_f64x2_splat(underflow);
  const v128_t verr = wasm_f64x2_splat(err), vfar = wasm_f64x2_splat(far), zero = wasm_f64x2_splat(0);
  const v128_t vclamp = wasm_f64x2_splat(last - 1), half = wasm_f64x2_splat(0.5), magic = wasm_f64x2_splat(6755399441055744.0);
  for (int p = 0; p < count; p++) {
    const f64 *pp = pts + p * dim;
    f64 *out = dd + p * n;
    int i = 0;
    for (; i + 2 <= n; i += 2) {
      v128_t s = wasm_f64x2_splat(0);
      for (int m = 0; m < dim; m++) {
        v128_t t = wasm_f64x2_sub(wasm_f64x2_splat(pp[m]), wasm_v128_load(xt + m * np + i));
        s = wasm_f64x2_add(s, wasm_f64x2_mul(t, t));
      }
      wasm_v128_store(out + i, s);
    }
    for (; i < n; i++) {
      f64 s = 0;
      for (int m = 0; m < dim; m++) {
        f64 t = pp[m] - xt[m * np + i];
        s += t * t;
      }
      out[i] = s;
    }
    /* Two training points at a time. The bracketing table nodes come from round(u − ½) by the 2⁵² trick (j lands in
     * the low word of u − ½ + 1.5·2⁵²), not a float → int conversion, which costs V8 a dozen instructions per lane;
     * round-to-nearest of u − ½ gives j ≤ u ≤ j + 1 whichever way it ties, which is all the interpolation needs. Lanes at
     * or past `last` (clamped for the reads) take the far-field values. */
    v128_t hs = zero, kl = zero;
    for (i = 0; i + 2 <= n; i += 2) {
      const v128_t u = wasm_f64x2_mul(wasm_v128_load(out + i), vscale);
      const v128_t uc = wasm_f64x2_pmin(u, vclamp);
      const v128_t jm = wasm_f64x2_add(wasm_f64x2_sub(uc, half), magic);
      const v128_t jf = wasm_f64x2_sub(jm, magic);
      const int j0 = wasm_i32x4_extract_lane(jm, 0), j1 = wasm_i32x4_extract_lane(jm, 2);
      const v128_t a = wasm_f64x2_make(table[j0], table[j1]);
      const v128_t b = wasm_f64x2_make(table[j0 + 1], table[j1 + 1]);
      const v128_t k = wasm_f64x2_add(a, wasm_f64x2_mul(wasm_f64x2_sub(b, a), wasm_f64x2_sub(uc, jf)));
      const v128_t near = wasm_f64x2_lt(u, vlast);
      const v128_t hi = wasm_v128_bitselect(wasm_f64x2_add(k, vslack), wasm_v128_and(vfar, wasm_f64x2_lt(u, vunder)), near);
      const v128_t lo = wasm_v128_and(wasm_f64x2_sub(k, verr), near);
      const v128_t ai = wasm_v128_load(alpha + i);
      hs = wasm_f64x2_add(hs, wasm_f64x2_mul(ai, wasm_v128_bitselect(hi, lo, wasm_f64x2_ge(ai, zero))));
      kl = wasm_f64x2_pmax(kl, lo);
    }
    f64 hi_sum = wasm_f64x2_extract_lane(hs, 0) + wasm_f64x2_extract_lane(hs, 1);
    f64 klo = wasm_f64x2_extract_lane(kl, 0);
    if (wasm_f64x2_extract_lane(kl, 1) > klo) klo = wasm_f64x2_extract_lane(kl, 1);
    for (; i < n; i++) {
      const f64 u = out[i] * scale;
      f64 lo, hi;
      if (u < last) {
        const int j = (int)u;
        const f64 a = table[j];
        const f64 k = a + (table[j + 1] - a) * (u - j);
        hi = k + slack;
        lo = k - err;
      } else {
        lo = 0;
        hi = u < underflow ? far : 0;
      }
      const f64 ai = alpha[i];
      hi_sum += ai >= 0 ? ai * hi : ai * lo;
      if (lo > klo) klo = lo;
    }
    mu[p] = hi_sum;
    kmax[p] = klo;
  }
}
