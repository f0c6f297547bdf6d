/**
 * Mersenne Twister MT19937 with the draw semantics of numpy's legacy `RandomState`, so that a
 * search seeded like the Python reference (bayes_opt, sklearn) sees the very same numbers.
 * Covers what those libraries use: integer seeding (`init_genrand`), 53-bit doubles
 * (`random_sample`), `uniform`, bounded integers (`randint`, masked rejection) and the polar
 * Box–Muller normal with its cached second value (`standard_normal`).
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;

export class MT19937 {
  private readonly mt = new Uint32Array(N);
  private pos = N;
  private gauss = 0;
  private hasGauss = false;

  /** Seeds as `numpy.random.RandomState(seed)` does for an integer seed in [0, 2³²). */
  constructor(seed: number) {
    if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
      throw new RangeError(`MT19937: seed must be an integer in [0, 2^32), got ${seed}`);
    }
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const s = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, s) + i) >>> 0;
    }
  }

  /** Next raw 32-bit output (genrand_int32). */
  nextUint32(): number {
    if (this.pos >= N) this.twist();
    let y = this.mt[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Uniform double in [0, 1) from two outputs, as numpy's random_sample: (a>>5, b>>6). */
  randomSample(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /**
   * out[start + k] = random_sample() for k < count: the same numbers as `count` calls, drawn in one tight loop (a
   * sweep of tens of thousands of draws costs several times more through one call per draw).
   */
  fillRandomSample(out: Float64Array, start: number, count: number): void {
    // An int32 view: the tempering stays in small integers (a Uint32Array read above 2³¹ would be a heap number).
    const mt = new Int32Array(this.mt.buffer);
    let pos = this.pos;
    for (let k = start, end = start + count; k < end; k++) {
      if (pos >= N) {
        this.twist();
        pos = 0;
      }
      let a = mt[pos++];
      a ^= a >>> 11;
      a ^= (a << 7) & 0x9d2c5680;
      a ^= (a << 15) & 0xefc60000;
      a ^= a >>> 18;
      if (pos >= N) {
        this.twist();
        pos = 0;
      }
      let b = mt[pos++];
      b ^= b >>> 11;
      b ^= (b << 7) & 0x9d2c5680;
      b ^= (b << 15) & 0xefc60000;
      b ^= b >>> 18;
      out[k] = ((a >>> 5) * 67108864 + (b >>> 6)) / 9007199254740992;
    }
    this.pos = pos;
  }

  /** numpy's `uniform(lo, hi)`: lo + (hi − lo)·random_sample(). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.randomSample();
  }

  /**
   * Integer in [0, n) as legacy `randint(n)`: n = 1 draws nothing; otherwise outputs are masked
   * to the smallest all-ones mask covering n − 1 and rejected until they fit. Above 2³² − 1 a
   * 64-bit output (first draw high word) is used the same way. n ≤ 2⁵³.
   */
  randint(n: number): number {
    if (!(Number.isInteger(n) && n >= 1 && n <= 2 ** 53)) throw new RangeError(`MT19937.randint: bad bound ${n}`);
    const rng = n - 1;
    if (rng === 0) return 0;
    if (rng <= 0xffffffff) {
      const mask = smear32(rng);
      let v: number;
      do v = (this.nextUint32() & mask) >>> 0;
      while (v > rng);
      return v;
    }
    const hiRng = Math.floor(rng / 4294967296);
    const hiMask = smear32(hiRng); // the mask's low word is all ones
    for (;;) {
      const hi = (this.nextUint32() & hiMask) >>> 0;
      const lo = this.nextUint32();
      const v = hi * 4294967296 + lo;
      if (v <= rng) return v;
    }
  }

  /** Standard normal as legacy `standard_normal` / `gauss`: polar Box–Muller, second value cached. */
  standardNormal(): number {
    if (this.hasGauss) {
      this.hasGauss = false;
      const g = this.gauss;
      this.gauss = 0;
      return g;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * this.randomSample() - 1;
      x2 = 2 * this.randomSample() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * Math.log(r2)) / r2);
    this.gauss = f * x1;
    this.hasGauss = true;
    return f * x2;
  }

  private twist(): void {
    // Branch-free: (−(y & 1)) & MATRIX_A is MATRIX_A for odd y, else 0 — a coin flip per word that a branch predictor
    // gets wrong half the time (that cost more than the rest of the generator).
    const mt = new Int32Array(this.mt.buffer);
    let kk = 0;
    for (; kk < N - M; kk++) {
      const y = (mt[kk] & UPPER) | (mt[kk + 1] & LOWER);
      mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    for (; kk < N - 1; kk++) {
      const y = (mt[kk] & UPPER) | (mt[kk + 1] & LOWER);
      mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    const y = (mt[N - 1] & UPPER) | (mt[0] & LOWER);
    mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    this.pos = 0;
  }
}

/** Smallest 2^k − 1 ≥ v, for 0 < v < 2³². */
function smear32(v: number): number {
  let m = v >>> 0;
  m |= m >>> 1;
  m |= m >>> 2;
  m |= m >>> 4;
  m |= m >>> 8;
  m |= m >>> 16;
  return m >>> 0;
}
