/**
 * A counter-based random stream: the value at position i of stream (seed, tag) is a pure function of the three
 * integers, so a PyTorch anchor (anchors/metrics_anchor.py, numpy uint32 arithmetic) draws the very same numbers
 * without sharing state or files. Used for the draws SWAP and AZ-NAS make themselves (Gaussian weights and noise,
 * Rademacher vectors) and for the fixture weights; much faster than a stateful generator for 10⁶ draws.
 *
 * mix32 is Chris Wellons' "lowbias32" integer hash; the stream value is mix32(i ^ mix32(tag ^ mix32(seed))).
 */
export function mix32(x: number): number {
  x >>>= 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The key of stream (seed, tag): hash(i) = mix32(i ^ key). */
export function streamKey(seed: number, tag: number): number {
  return mix32((tag ^ mix32(seed)) >>> 0);
}

export function hashAt(key: number, i: number): number {
  return mix32((i ^ key) >>> 0);
}

/** U[0, 1) at position i: hash / 2^32 (exact in float64). */
export function uniformAt(key: number, i: number): number {
  return hashAt(key, i) / 4294967296;
}

/** ±1 at position i: +1 when the hash's lowest bit is set. */
export function rademacherAt(key: number, i: number): number {
  return (hashAt(key, i) & 1) === 1 ? 1 : -1;
}

/**
 * `count` standard normal draws of stream `key` (Box–Muller on pairs of positions: u₁ = (hash(2i) + ½)/2³²,
 * u₂ = hash(2i+1)/2³², z₂ᵢ = √(−2 ln u₁)·cos 2πu₂, z₂ᵢ₊₁ = …·sin 2πu₂), scaled by `std`, as float32.
 */
export function normalsAt(key: number, count: number, std = 1): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u1 = (hashAt(key, i) + 0.5) / 4294967296;
    const u2 = hashAt(key, i + 1) / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1)) * std;
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** 32-bit FNV-1a of a string's UTF-8 bytes. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
