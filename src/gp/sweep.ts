/**
 * The acquisition sweep: the maximum of UCB or EI over thousands of random points of a fitted GP, found without
 * evaluating most of them exactly. `boundSweep` bounds the posterior at every point at once (a kernel table, the
 * nearest training point); the `SweepBounds` it returns then gives tighter bounds and exact values of the points that
 * still matter — only for its own points, so an exact value can never be asked of a sweep that was not bounded.
 */
import type { GaussianProcess } from './gp.js';
import { acquisitionValue, type AcquisitionSpec } from './acquisition.js';
import { matern52FromScaledSq } from './kernel.js';
import { cholesky, solveLower } from './linalg.js';
import { blockOf, destandardisedStd, loadModel, posteriorInto, type FittedGp } from './posterior.js';
import { gpHeaps } from './wasm.js';

const SQRT5 = Math.sqrt(5);
/** Nearest training points of `subsetStdBound`. */
const SUBSET = 4;
/**
 * Slack added to the standardised variance bound of `subsetStdBound`: it covers the rounding of both that bound and the
 * exact posterior (each is a handful of operations on numbers ≤ 1, far below 1e-9).
 */
const SUBSET_SLACK = 1e-9;
/** Beyond this scaled distance the kernel underflows to exactly 0 (√5·s > 745). */
const UNDERFLOW_S = 340;

/**
 * k at u = s² = j/TABLE_STEPS_PER_UNIT (s = r/ℓ), u ≤ TABLE_MAX_S², for the sweep bounds. As a function of u, k is
 * convex with k'' = (25/12)e^{−√5s} ≤ 25/12, so linear interpolation overestimates it, by at most δ²·(25/12)/8;
 * TABLE_SLACK on either side covers rounding. Beyond TABLE_MAX_S, 0 ≤ k ≤ k(TABLE_MAX_S) ≈ 3e-17. Indexed by the squared distance,
 * the bounds need no square root.
 */
const TABLE_STEPS_PER_UNIT = 64;
const TABLE_MAX_S = 20;
const TABLE_SLACK = 1e-12;
const TABLE_ERROR = (25 / 96) / (TABLE_STEPS_PER_UNIT * TABLE_STEPS_PER_UNIT) + TABLE_SLACK;
const KERNEL_TABLE = Float64Array.from({ length: TABLE_STEPS_PER_UNIT * TABLE_MAX_S * TABLE_MAX_S + 1 }, (_, j) => {
  const d = SQRT5 * Math.sqrt(j / TABLE_STEPS_PER_UNIT);
  return (1 + d + (d * d) / 3) * Math.exp(-d);
});

/** The posterior bounds of one sweep's points, and their exact values on demand (see `boundSweep`). */
export class SweepBounds {
  /** Squared distances point × training point (count × n), in the sweep instance's memory. */
  private distances: Float64Array;
  // Workspace of subsetStdBound.
  private readonly subIdx = new Int32Array(SUBSET);
  private readonly subD = new Float64Array(SUBSET);
  private readonly subK = new Float64Array(SUBSET * SUBSET);
  private readonly subV = new Float64Array(SUBSET);

  /**
   * Upper bounds on the posterior mean and std at `count` points (row-major count×dim), without
   * evaluating the kernel: each k(r) is read from a table by linear interpolation, whose error
   * is at most δ²·max|k''|/8 (a few 1e-5), and the bounds use k ± that error. The std bound uses
   * the nearest training point alone (k*ᵀK⁻¹k* ≥ k*ᵢ²/Kᵢᵢ for every i).
   */
  constructor(
    private readonly model: FittedGp,
    points: Float64Array,
    readonly count: number,
    meanUpper: Float64Array,
    stdUpper: Float64Array,
  ) {
    const m = model;
    const n = m.n;
    const dim = m.dim;
    const s = m.yStd;
    const m0 = m.yMean;
    const diag = 1 + m.noise;
    // Distances and table bounds in WebAssembly (native/gp/gp.c; the same operations as a plain loop), kept in the
    // sweep instance for exactAt, exactBatch and subsetStdBound. Training points coordinate-major, padded to even n.
    const { sweep } = gpHeaps();
    const np = n + (n & 1);
    // The table first: it stays in place from one sweep to the next.
    const sizes = [KERNEL_TABLE.length, count * dim, dim * np, n, 5, count * n, count, count];
    const offsets: number[] = [];
    let bytes = 0;
    for (const c of sizes) {
      offsets.push(bytes);
      bytes += 8 * c + (16 - ((8 * c) % 16)) % 16;
    }
    sweep.claim(this, bytes);
    const [tableAt, ptsAt, xtAt, alphaAt, prmAt, ddAt, muAt, kmaxAt] = offsets.map((o) => sweep.start + o);
    const table = sweep.view(tableAt, KERNEL_TABLE.length);
    if (table[1] !== KERNEL_TABLE[1]) table.set(KERNEL_TABLE);
    sweep.view(ptsAt, count * dim).set(points.subarray(0, count * dim));
    const xt = sweep.view(xtAt, dim * np);
    xt.fill(0);
    for (let i = 0; i < n; i++) for (let c = 0; c < dim; c++) xt[c * np + i] = m.x[i * dim + c];
    sweep.view(alphaAt, n).set(m.alpha);
    const maxU = TABLE_STEPS_PER_UNIT * TABLE_MAX_S * TABLE_MAX_S;
    sweep.view(prmAt, 5).set([TABLE_STEPS_PER_UNIT / (m.ell * m.ell), maxU, TABLE_STEPS_PER_UNIT * UNDERFLOW_S * UNDERFLOW_S, TABLE_ERROR, TABLE_SLACK]);
    sweep.x.gp_sweep(ptsAt, count, dim, xtAt, np, n, alphaAt, tableAt, prmAt, ddAt, muAt, kmaxAt);
    const mu = sweep.view(muAt, count);
    const kmax = sweep.view(kmaxAt, count);
    for (let p = 0; p < count; p++) {
      meanUpper[p] = mu[p] * s + m0;
      // The 1e-12 slack keeps the bound above the exact value's rounding error.
      const ub = 1 - (kmax[p] * kmax[p]) / diag + 1e-12;
      stdUpper[p] = Math.sqrt(ub < 1 ? ub : 1) * s;
    }
    this.distances = sweep.view(ddAt, count * n);
  }

  /**
   * Exact posterior mean and std at sweep point p, written to out[0..1];
   * bit-identical to what the GP's `predictBatch` computes (same operations in the same order).
   */
  exactAt(p: number, out: Float64Array): void {
    this.checkPoint(p, 'exactAt');
    const m = this.model;
    const n = m.n;
    const dd = this.sweepDistances();
    const v = m.scratch;
    const inv2 = 1 / (m.ell * m.ell);
    const ko = p * n;
    let mu = 0;
    for (let i = 0; i < n; i++) {
      const k = matern52FromScaledSq(dd[ko + i] * inv2);
      v[i] = k;
      mu += m.alpha[i] * k;
    }
    posteriorInto(m, v, mu, out);
  }

  /**
   * A tighter upper bound on the posterior std at sweep point p: the posterior given only the
   * SUBSET nearest training points has at least the variance of the posterior given all of them, and is a small exact
   * solve (plus SUBSET_SLACK for rounding).
   */
  subsetStdBound(p: number): number {
    this.checkPoint(p, 'subsetStdBound');
    const model = this.model;
    const n = model.n;
    const m = Math.min(SUBSET, n);
    const dd = this.sweepDistances();
    const ko = p * n;
    const idx = this.subIdx;
    const dist = this.subD;
    // The m smallest distances, by insertion.
    let have = 0;
    for (let i = 0; i < n; i++) {
      const d = dd[ko + i];
      if (have === m && !(d < dist[m - 1])) continue;
      let j = have < m ? have++ : m - 1;
      while (j > 0 && dist[j - 1] > d) {
        dist[j] = dist[j - 1];
        idx[j] = idx[j - 1];
        j--;
      }
      dist[j] = d;
      idx[j] = i;
    }
    const inv2 = 1 / (model.ell * model.ell);
    const ks = this.subV;
    const kk = this.subK;
    for (let a = 0; a < m; a++) {
      ks[a] = matern52FromScaledSq(dist[a] * inv2);
      for (let b = 0; b <= a; b++) kk[a * m + b] = model.gram[idx[a] * n + idx[b]];
    }
    const l = cholesky(kk, m, kk);
    let ub: number;
    if (l === null) {
      ub = 1;
    } else {
      const v = solveLower(l, m, ks, ks);
      let q = 0;
      for (let a = 0; a < m; a++) q += v[a] * v[a];
      ub = 1 - q + SUBSET_SLACK;
    }
    return Math.sqrt(ub < 1 ? (ub > 0 ? ub : 0) : 1) * model.yStd;
  }

  /**
   * Exact posterior mean and std at sweep points idx[0..count), bit-identical to `exactAt`
   * (the same operations in the same order for every point), with the points side by side in the inner loops.
   */
  exactBatch(idx: ArrayLike<number>, count: number, meanOut: Float64Array, stdOut: Float64Array): void {
    const m = this.model;
    const n = m.n;
    const dd = this.sweepDistances();
    const inv2 = 1 / (m.ell * m.ell);
    for (let q = 0; q < count; q++) this.checkPoint(idx[q], 'exactBatch');
    const { work } = gpHeaps();
    const model = loadModel(m, work);
    const B = blockOf(count);
    const kkAt = work.alloc(n * B);
    const meanAt = work.alloc(B);
    const varAt = work.alloc(B);
    const kk = work.view(kkAt, n * B);
    const mv = work.view(meanAt, B);
    const vv = work.view(varAt, B);
    for (let p0 = 0; p0 < count; p0 += B) {
      const cnt = Math.min(B, count - p0);
      for (let i = 0; i < n; i++) {
        const row = i * B;
        for (let q = 0; q < cnt; q++) kk[row + q] = matern52FromScaledSq(dd[idx[p0 + q] * n + i] * inv2);
      }
      work.x.gp_posterior(kkAt, B, cnt, model.l, n, model.alpha, model.invDiag, meanAt, varAt);
      for (let q = 0; q < cnt; q++) {
        meanOut[p0 + q] = mv[q] * m.yStd + m.yMean;
        stdOut[p0 + q] = destandardisedStd(m, vv[q]);
      }
    }
  }

  private checkPoint(p: number, what: string): void {
    if (!(p >= 0 && p < this.count)) throw new RangeError(`SweepBounds.${what}: no point ${p} in this sweep of ${this.count}`);
  }

  /** This sweep's distances (in the sweep instance, which the next sweep of any GP overwrites). */
  private sweepDistances(): Float64Array {
    if (!gpHeaps().sweep.ownedBy(this)) {
      throw new RangeError("SweepBounds: this sweep's distances were overwritten by a later sweep (of this or another GP)");
    }
    return this.distances;
  }
}

/**
 * Bounds the posterior of a fitted GP at `count` points (row-major count×dim) into `meanUpper` and `stdUpper`; the
 * returned bounds give exact values of those points (`exactAt`, `exactBatch`) and a tighter std bound
 * (`subsetStdBound`) while no later sweep has replaced them.
 */
export function boundSweep(gp: GaussianProcess, points: Float64Array, count: number, meanUpper: Float64Array, stdUpper: Float64Array): SweepBounds {
  return new SweepBounds(gp.posteriorModel(), points, count, meanUpper, stdUpper);
}

/** Buffers for `sweepAcquisition`, reusable across calls of the same size. */
export interface SweepScratch {
  readonly meanBound: Float64Array;
  readonly stdBound: Float64Array;
  readonly bound: Float64Array;
  readonly exact: Float64Array;
  /** The refined bound of the points still in play. */
  readonly fine: Float64Array;
  readonly ids: Int32Array;
  readonly meanOut: Float64Array;
  readonly stdOut: Float64Array;
}

export function createSweepScratch(count: number): SweepScratch {
  return {
    meanBound: new Float64Array(count),
    stdBound: new Float64Array(count),
    bound: new Float64Array(count),
    exact: new Float64Array(count),
    fine: new Float64Array(count),
    ids: new Int32Array(Math.max(count, 16)),
    meanOut: new Float64Array(Math.max(count, 16)),
    stdOut: new Float64Array(Math.max(count, 16)),
  };
}

export interface SweepResult {
  /** Index of the point with the largest acquisition (the first one on ties, as np.argmax). */
  readonly best: number;
  readonly bestValue: number;
  /** Indexes of the `keep` largest, descending, earlier points first on ties. */
  readonly top: Int32Array;
}

/**
 * Maximise the acquisition over `count` points (row-major) of a fitted GP. The result is the
 * same as evaluating every point exactly, but exact values (n kernel evaluations and an O(n²)
 * solve each) are only computed where an upper bound — the acquisition at upper bounds on μ and σ,
 * valid because UCB with κ ≥ 0 and EI both grow with μ and σ — could still reach the `keep` best.
 * Bounds come in two stages: the GP's cheap table bounds for every point (`boundSweep`), then, for
 * the points those leave in play, a σ bound from the nearest training points (`subsetStdBound`);
 * the survivors are evaluated best bound first, in batches (`exactBatch`), until no bound can
 * beat the values found. Typically a few dozen points of 10,000 are evaluated exactly.
 */
export function sweepAcquisition(
  gp: GaussianProcess,
  points: Float64Array,
  count: number,
  spec: AcquisitionSpec,
  yMax: number,
  keep: number,
  scratch: SweepScratch = createSweepScratch(count),
): SweepResult {
  const { meanBound, stdBound, bound, exact } = scratch;
  const sweep = boundSweep(gp, points, count, meanBound, stdBound);
  const kappa = spec.kappa;
  const acq = (m: number, sd: number): number => (spec.kind === 'ucb' ? m + kappa * sd : acquisitionValue(spec, m, sd, yMax));
  for (let p = 0; p < count; p++) bound[p] = acq(meanBound[p], stdBound[p]);
  const prune = spec.kind === 'ei' || kappa >= 0;
  exact.fill(NaN, 0, count);
  const running = new TopK(keep);
  // With one point to keep the winner is the first index of the largest value, so a bound equal to the best value
  // so far only matters for an earlier index (a flat GP gives every point the same value).
  let bestValue = -Infinity;
  let bestIndex = count;
  const matters = (p: number, b: number): boolean => {
    if (keep === 1) return b > bestValue || (b === bestValue && p < bestIndex);
    return b >= running.threshold;
  };
  const ids = scratch.ids;
  const mOut = scratch.meanOut;
  const sOut = scratch.stdOut;
  const evaluate = (list: ArrayLike<number>, from: number, to: number): void => {
    let cnt = 0;
    for (let j = from; j < to; j++) if (Number.isNaN(exact[list[j]])) ids[cnt++] = list[j];
    if (cnt === 0) return;
    sweep.exactBatch(ids, cnt, mOut, sOut);
    for (let j = 0; j < cnt; j++) {
      const p = ids[j];
      const a = acquisitionValue(spec, mOut[j], sOut[j], yMax);
      exact[p] = a;
      running.offer(p, a);
      if (a > bestValue || (a === bestValue && p < bestIndex)) {
        bestValue = a;
        bestIndex = p;
      }
    }
  };
  if (!prune) {
    const all = Int32Array.from({ length: count }, (_, p) => p);
    for (let p0 = 0; p0 < count; p0 += EXACT_BATCH) evaluate(all, p0, Math.min(count, p0 + EXACT_BATCH));
  } else {
    // Seed the threshold from the points with the largest bounds.
    const seeds = new TopK(Math.max(4 * keep, 16));
    for (let p = 0; p < count; p++) seeds.offer(p, bound[p]);
    evaluate(seeds.index, 0, seeds.size);
    // Points the table bounds leave in play, with the tighter σ bound, best first.
    const cand: number[] = [];
    const fine = scratch.fine;
    for (let p = 0; p < count; p++) {
      if (!Number.isNaN(exact[p]) || !matters(p, bound[p])) continue;
      const b = acq(meanBound[p], Math.min(stdBound[p], sweep.subsetStdBound(p)));
      if (!matters(p, b)) continue;
      fine[p] = b;
      cand.push(p);
    }
    cand.sort((x, y) => fine[y] - fine[x] || x - y);
    for (let j = 0; j < cand.length; ) {
      if (!matters(cand[j], fine[cand[j]])) {
        // Sorted by bound: once the best remaining bound is below the values found, nothing else can matter (only
        // equal bounds at earlier indexes can, checked one by one).
        if (fine[cand[j]] < (keep === 1 ? bestValue : running.threshold)) break;
        j++;
        continue;
      }
      let e = j;
      const batch: number[] = [];
      while (e < cand.length && batch.length < EXACT_BATCH) {
        if (matters(cand[e], fine[cand[e]])) batch.push(cand[e]);
        e++;
      }
      evaluate(batch, 0, batch.length);
      j = e;
    }
  }
  // Final selection in index order; pruned points cannot qualify.
  const chosen = new TopK(keep);
  let best = 0;
  let bestValueFinal = -Infinity;
  for (let p = 0; p < count; p++) {
    const a = exact[p];
    if (Number.isNaN(a)) continue;
    if (a > bestValueFinal) {
      bestValueFinal = a;
      best = p;
    }
    chosen.offer(p, a);
  }
  return { best, bestValue: bestValueFinal, top: chosen.index.slice(0, chosen.size) };
}

/** Points evaluated exactly at a time by the sweep. */
const EXACT_BATCH = 32;

/**
 * The k largest values offered, with their indexes, in descending order; among equal values the
 * one offered first ranks first. `threshold` is the k-th value (−∞ until k are held).
 */
class TopK {
  readonly index: Int32Array;
  readonly value: Float64Array;
  size = 0;
  constructor(readonly k: number) {
    this.index = new Int32Array(k);
    this.value = new Float64Array(k);
  }
  get threshold(): number {
    return this.size < this.k ? -Infinity : this.value[this.k - 1];
  }
  offer(i: number, v: number): void {
    if (this.size === this.k && !(v > this.value[this.k - 1])) return;
    for (let j = 0; j < this.size; j++) if (this.index[j] === i) return;
    let j = this.size < this.k ? this.size++ : this.k - 1;
    while (j > 0 && this.value[j - 1] < v) {
      this.value[j] = this.value[j - 1];
      this.index[j] = this.index[j - 1];
      j--;
    }
    this.value[j] = v;
    this.index[j] = i;
  }
}
