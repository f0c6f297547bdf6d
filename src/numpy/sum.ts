/**
 * Σ a[off..off+n) in numpy's order (pairwise summation: 8 interleaved accumulators for blocks
 * of up to 128, halving above), so a mean or std is bit-equal to np.mean / np.std.
 */
export function numpySum(a: ArrayLike<number>, off: number, n: number): number {
  if (n < 8) {
    let r = 0;
    for (let i = 0; i < n; i++) r += a[off + i];
    return r;
  }
  if (n <= 128) {
    const r = [a[off], a[off + 1], a[off + 2], a[off + 3], a[off + 4], a[off + 5], a[off + 6], a[off + 7]];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[off + i + j];
    let res = (r[0] + r[1] + (r[2] + r[3])) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) res += a[off + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return numpySum(a, off, n2) + numpySum(a, off + n2, n - n2);
}
