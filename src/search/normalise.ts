/**
 * Normalisation of a training-free metric column over the pool before RoBoT combines metrics
 * linearly. NaN means missing and stays NaN; statistics use the non-missing values only.
 *
 * ±Infinity (e.g. a log-determinant of a singular matrix) is a value, not a missing one: it
 * takes the extreme rank ('rank', 'quantile') and is winsorised to the clip bound ('clip',
 * whose percentiles come from the finite values). 'minmax' keeps the reference's arithmetic,
 * in which a column holding an infinity turns entirely NaN and so drops out of the scores.
 */
import { InputError } from '../util/errors.js';
import { normCdf } from '../gp/acquisition.js';
import { averageRanks } from '../util/stats.js';

export { averageRanks };

export type NormaliseKind = 'minmax' | 'rank' | 'quantile' | 'clip' | 'log-minmax';
export const NORMALISE_KINDS: readonly NormaliseKind[] = ['minmax', 'rank', 'quantile', 'clip', 'log-minmax'];

export function isNormaliseKind(s: string): s is NormaliseKind {
  return (NORMALISE_KINDS as readonly string[]).includes(s);
}

export interface NormaliseOptions {
  /** 'clip': lower and upper percentiles (0–100) to winsorise at before min-max (default [1, 99]). */
  readonly clipPercentiles?: readonly [number, number];
}

/**
 * - 'minmax' (the reference): (v − min)/(max − min); a constant column is left as it is.
 * - 'rank': average ranks of ties, scaled to [0, 1] ((r − 1)/(n − 1); a single or all-tied value → 0.5).
 * - 'quantile': normal scores Φ⁻¹((r − 3/8)/(n + 1/4)) of the average ranks (Blom), so every
 *   metric gets the same roughly standard-normal spread regardless of its raw distribution.
 *   Note that there a missing value's contribution of 0 sits at the median, not the minimum.
 * - 'clip': winsorise at the given percentiles (numpy's linear interpolation, over finite
 *   values), then min-max.
 * - 'log-minmax': min-max, except that a non-negative column whose values span more than
 *   LOG_DECADES orders of magnitude (from the 1st percentile of its positive values to its
 *   maximum) is taken as log1p(v / p₁) first — such a metric (raw synflow: 10⁷ to 10⁵⁰) is on a
 *   multiplicative scale, and min-max of it keeps only its few largest values apart.
 */
export function normalise(values: Float64Array, kind: NormaliseKind, options: NormaliseOptions = {}): Float64Array {
  switch (kind) {
    case 'minmax':
      return minMax(values);
    case 'rank':
      return rankScaled(values);
    case 'quantile':
      return normalScores(values);
    case 'log-minmax':
      return minMax(spansDecades(values) ?? values);
    case 'clip': {
      const [lo, hi] = options.clipPercentiles ?? [1, 99];
      if (!(lo >= 0 && hi <= 100 && lo <= hi)) {
        throw new InputError(`clip percentiles must satisfy 0 <= lower <= upper <= 100, got [${lo}, ${hi}]`);
      }
      return minMax(winsorise(values, lo, hi));
    }
    default:
      throw new InputError(`unknown normalisation '${String(kind)}' (expected one of ${NORMALISE_KINDS.join(', ')})`);
  }
}

/** Orders of magnitude above which 'log-minmax' takes a column in log. */
export const LOG_DECADES = 10;

/**
 * log1p(v / p₁) of a non-negative column spanning more than LOG_DECADES decades (p₁ = 1st percentile of its
 * positive finite values; zeros stay lowest, at 0), or undefined for any other column. NaN and +∞ pass through.
 */
export function spansDecades(values: Float64Array): Float64Array | undefined {
  const positive: number[] = [];
  for (const v of values) {
    if (v < 0) return undefined;
    if (v > 0 && Number.isFinite(v)) positive.push(v);
  }
  if (positive.length < 2) return undefined;
  positive.sort((a, b) => a - b);
  const p1 = positive[Math.floor(0.01 * positive.length)];
  if (!(positive[positive.length - 1] / p1 > 10 ** LOG_DECADES)) return undefined;
  return values.map((v) => Math.log1p(v / p1));
}

/**
 * The reference's formula in IEEE arithmetic over the non-missing values. An infinity makes
 * max − min infinite, so every entry becomes NaN or 0 (with min = −∞, all NaN; with max = +∞,
 * finite values 0 and the infinity NaN): the column contributes nothing to any score, exactly
 * as in the Python reference.
 */
function minMax(values: Float64Array): Float64Array {
  let min = Infinity;
  let max = -Infinity;
  let any = false;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    any = true;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const out = new Float64Array(values.length);
  const range = max - min;
  if (!any || range === 0) {
    // The reference leaves a constant column unscaled.
    out.set(values);
    return out;
  }
  for (let i = 0; i < values.length; i++) out[i] = (values[i] - min) / range;
  return out;
}

function rankScaled(values: Float64Array): Float64Array {
  const { ranks, count } = averageRanks(values);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const r = ranks[i];
    out[i] = Number.isNaN(r) ? NaN : count > 1 ? (r - 1) / (count - 1) : 0.5;
  }
  return out;
}

function normalScores(values: Float64Array): Float64Array {
  const { ranks, count } = averageRanks(values);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const r = ranks[i];
    out[i] = Number.isNaN(r) ? NaN : normQuantile((r - 0.375) / (count + 0.25));
  }
  return out;
}

/** Percentile p (0–100) of sorted finite values by linear interpolation (numpy's default). */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = ((n - 1) * p) / 100;
  const lo = Math.floor(h);
  if (lo >= n - 1) return sorted[n - 1];
  return sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]);
}

/** Clamp values to their [lo, hi] percentiles (over finite values); NaN stays NaN. */
export function winsorise(values: Float64Array, lowerPct: number, upperPct: number): Float64Array {
  const finite = values.filter((v) => Number.isFinite(v)).sort();
  const out = new Float64Array(values.length);
  if (finite.length === 0) {
    out.set(values);
    return out;
  }
  const lo = percentileSorted(finite, lowerPct);
  const hi = percentileSorted(finite, upperPct);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = Number.isNaN(v) ? NaN : v < lo ? lo : v > hi ? hi : v;
  }
  return out;
}

// Acklam's rational approximation to Φ⁻¹ (relative error < 1.2e-9), refined below by one Halley step.
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

/** Standard-normal quantile Φ⁻¹(p): −∞ at 0, +∞ at 1, NaN outside [0, 1]. */
export function normQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  let x: number;
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  } else if (p <= 1 - P_LOW) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  }
  // Halley step on Φ(x) − p brings the approximation to full double precision.
  const e = normCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  if (Number.isFinite(u)) x = x - u / (1 + (x * u) / 2);
  return x;
}
