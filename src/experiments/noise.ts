/**
 * How noisy a pool's ground truth is: the binomial standard error of one validation accuracy, the seed-to-seed
 * spread of retrained architectures, how often the best architectures swap order when retrained, and how many
 * candidates the noise cannot tell from the best. Pure.
 */
import { mean } from '../util/stats.js';

/** Binomial standard error (points) of an accuracy of `percent` % measured on `n` images. */
export function binomialSE(percent: number, n: number): number {
  const p = percent / 100;
  return 100 * Math.sqrt((p * (1 - p)) / n);
}

/**
 * Pooled seed-to-seed standard deviation: √(mean over architectures of the sample variance of its values across
 * training seeds). Architectures with fewer than two finite values are skipped; NaN when none is left.
 */
export function pooledSeedStd(perArch: readonly (readonly number[])[]): number {
  const variances: number[] = [];
  for (const vs of perArch) {
    const xs = vs.filter(Number.isFinite);
    if (xs.length < 2) continue;
    const m = mean(xs);
    variances.push(xs.reduce((s, x) => s + (x - m) * (x - m), 0) / (xs.length - 1));
  }
  return variances.length === 0 ? NaN : Math.sqrt(mean(variances));
}

/** Share of pairs ordered one way by `a` and the other by `b` (pairs tied in either count as half a swap). */
export function swapRate(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new RangeError(`swapRate: ${a.length} vs ${b.length} values`);
  let swaps = 0;
  let pairs = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const s = Math.sign(a[i] - a[j]) * Math.sign(b[i] - b[j]);
      swaps += s < 0 ? 1 : s === 0 ? 0.5 : 0;
      pairs++;
    }
  }
  return pairs === 0 ? NaN : swaps / pairs;
}

/**
 * Candidates whose value is within `margin` of the best (the best included): with margin = 2·√2·σ (twice the
 * standard deviation of the difference of two independent trainings), the ranks noise cannot tell from rank 1.
 */
export function tiedWithBest(values: readonly number[], margin: number): number {
  let best = -Infinity;
  for (const v of values) if (v > best) best = v;
  return values.filter((v) => v >= best - margin).length;
}
