import { xoroshiro128plus, unsafeUniformIntDistribution, type RandomGenerator } from 'pure-rand';
import { MT19937 } from '../numpy/mt19937.js';

/**
 * Which generator backs an Rng: 'xoroshiro' (pure-rand's xoroshiro128+, the default) or
 * 'numpy' (MT19937 drawing exactly as numpy's legacy RandomState(seed), to replay Python
 * reference runs).
 */
export type RngKind = 'xoroshiro' | 'numpy';

/**
 * Seeded random source used by every algorithm, so that a run is reproducible from its seed.
 * By default wraps pure-rand's xoroshiro128+ (mutable, unsafe* calls for speed); with kind
 * 'numpy', `next()` is random_sample(), `int(n)` is randint(n) and `normal()` is
 * standard_normal() of `numpy.random.RandomState(seed)`.
 */
export class Rng {
  readonly kind: RngKind;
  private readonly gen: RandomGenerator | undefined;
  private readonly mt: MT19937 | undefined;
  private spare: number | undefined;

  constructor(seed: number, kind: RngKind = 'xoroshiro') {
    this.kind = kind;
    if (kind === 'numpy') {
      this.mt = new MT19937(seed);
    } else {
      this.gen = xoroshiro128plus(seed | 0);
    }
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  next(): number {
    if (this.mt) return this.mt.randomSample();
    const hi = unsafeUniformIntDistribution(0, (1 << 26) - 1, this.gen!);
    const lo = unsafeUniformIntDistribution(0, (1 << 27) - 1, this.gen!);
    return (hi * 134217728 + lo) / 9007199254740992;
  }

  /** Uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** out[start + k] = next() for k < count, the same numbers as `count` calls (one loop for a numpy generator). */
  fillNext(out: Float64Array, start: number, count: number): void {
    if (this.mt) {
      this.mt.fillRandomSample(out, start, count);
      return;
    }
    for (let k = start; k < start + count; k++) out[k] = this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1)) throw new RangeError(`Rng.int: n must be >= 1, got ${n}`);
    if (this.mt) return this.mt.randint(n);
    return unsafeUniformIntDistribution(0, n - 1, this.gen!);
  }

  /** Standard normal sample (Box–Muller, caching the second value). */
  normal(): number {
    if (this.mt) return this.mt.standardNormal();
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** A uniformly chosen element. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Sample an index from unnormalised non-negative weights. */
  categorical(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i];
    let u = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i];
      if (u < 0) return i;
    }
    return weights.length - 1;
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}
