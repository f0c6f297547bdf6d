/**
 * Metric weights fitted to every queried architecture: the w ∈ [-1, 1]^M whose scores Σₘ wₘ·x̃ₘ order the
 * queried architectures as their objective does, with most weight on the best ones. It minimises a pairwise
 * logistic loss over every pair (a better than b):
 *
 *   L(w) = Σ_{y_a > y_b} c_ab · log(1 + exp(−β·(s_a − s_b))) / Σ c_ab,   c_ab = 1 / rank(a),
 *
 * rank(a) = 1 for the best queried architecture — a pair counts as much as its better member is near the top,
 * because only the top of the ranking is ever queried. The box bounds w (the loss alone would push it to
 * infinity on separable data); β sets how sharp a pair's ordering must be to stop counting. Pure numerics.
 */
import { minimiseBounded } from '../gp/optimise.js';

export interface RankFitOptions {
  /** β, the slope of the logistic in score units (normalised metrics in [0, 1]; default 10). */
  readonly beta?: number;
}

export const RANK_FIT_BETA = 10;

/**
 * Fits w to the rows `features` (row-major q × M, the queried architectures' normalised metrics) with objectives
 * `y`, by projected quasi-Newton from each of `starts`; returns the best optimum (the first on ties), or a copy of
 * starts[0] when no pair is ordered (fewer than two distinct objectives).
 */
export function fitRankWeights(
  features: Float64Array,
  y: ArrayLike<number>,
  starts: readonly ArrayLike<number>[],
  options: RankFitOptions = {},
): Float64Array {
  const q = y.length;
  if (starts.length === 0) throw new RangeError('fitRankWeights: at least one start is needed');
  const M = starts[0].length;
  if (features.length !== q * M) throw new RangeError(`fitRankWeights: ${features.length} features for ${q} rows of ${M}`);
  const beta = options.beta ?? RANK_FIT_BETA;
  // 1-based rank by objective, best first; ties share the better rank.
  const order = Array.from({ length: q }, (_, a) => a).sort((a, b) => y[b] - y[a] || a - b);
  const rank = new Float64Array(q);
  for (let r = 0; r < q; r++) rank[order[r]] = r > 0 && y[order[r]] === y[order[r - 1]] ? rank[order[r - 1]] : r + 1;
  const first: number[] = [];
  const second: number[] = [];
  const weight: number[] = [];
  let total = 0;
  for (let a = 0; a < q; a++) {
    for (let b = 0; b < q; b++) {
      if (!(y[a] > y[b])) continue;
      first.push(a);
      second.push(b);
      weight.push(1 / rank[a]);
      total += 1 / rank[a];
    }
  }
  if (total === 0) return Float64Array.from(starts[0]);
  const P = weight.length;
  const pa = Int32Array.from(first);
  const pb = Int32Array.from(second);
  const c = Float64Array.from(weight, (v) => v / total);
  const s = new Float64Array(q);
  const coef = new Float64Array(q);
  // O(q·M + P) per evaluation: scores once, then the pairs, then the gradient back through the scores.
  const loss = (w: Float64Array, grad: Float64Array): number => {
    for (let a = 0; a < q; a++) {
      let v = 0;
      for (let m = 0; m < M; m++) v += w[m] * features[a * M + m];
      s[a] = v;
    }
    coef.fill(0);
    let f = 0;
    for (let p = 0; p < P; p++) {
      const z = -beta * (s[pa[p]] - s[pb[p]]);
      // softplus(z) = log(1 + e^z), and its slope σ(z), without overflow
      f += c[p] * (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
      const g = (c[p] * beta) / (1 + Math.exp(-z));
      coef[pa[p]] -= g;
      coef[pb[p]] += g;
    }
    grad.fill(0);
    for (let a = 0; a < q; a++) {
      if (coef[a] === 0) continue;
      for (let m = 0; m < M; m++) grad[m] += coef[a] * features[a * M + m];
    }
    return f;
  };
  const lower = new Float64Array(M).fill(-1);
  const upper = new Float64Array(M).fill(1);
  let best: Float64Array = Float64Array.from(starts[0]);
  let bestF = Infinity;
  for (const start of starts) {
    const r = minimiseBounded(loss, start, lower, upper);
    if (r.f < bestF) {
      bestF = r.f;
      best = r.x;
    }
  }
  return best;
}
