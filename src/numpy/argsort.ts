/**
 * numpy's argsort (numpy 1.24's introsort, which fixes the order of tied values) and the argmax RoBoT's reference reads
 * from it, so that a ranking with ties comes out as the Python reference's.
 */

/**
 * np.flip(np.argsort(scores))[0]: the index numpy's sort leaves last. Without ties at the top
 * (and without NaN, which numpy sorts last) that is simply the argmax; otherwise which tied
 * index comes last depends on the sort, so it is replayed.
 */
export function topAsNumpy(scores: Float64Array): number {
  let bi = -1;
  let bv = -Infinity;
  let ties = 0;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i];
    if (v !== v) return numpyArgsort(scores)[scores.length - 1];
    if (bi < 0 || v > bv) {
      bv = v;
      bi = i;
      ties = 1;
    } else if (v === bv) {
      ties++;
    }
  }
  return ties === 1 ? bi : numpyArgsort(scores)[scores.length - 1];
}

/** numpy's float order: NaN after everything. */
function npLess(a: number, b: number): boolean {
  return a < b || (b !== b && a === a);
}

/**
 * The permutation np.argsort(v, kind) returns in numpy 1.24: 'quicksort' (the default) is
 * introsort over an index array — median-of-three partitioning, insertion sort below 16
 * elements, heapsort past a depth of 2·⌊log₂ n⌋ — which fixes the order of tied values.
 */
export function numpyArgsort(v: ArrayLike<number>, kind: 'quicksort' | 'heapsort' = 'quicksort'): Int32Array {
  const num = v.length;
  const a = new Int32Array(num);
  for (let i = 0; i < num; i++) a[i] = i;
  if (num < 2) return a;
  if (kind === 'heapsort') {
    heapsortRange(v, a, 0, num);
    return a;
  }
  const swap = (i: number, j: number): void => {
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  };
  const stack: number[] = [];
  const depths: number[] = [];
  let pl = 0;
  let pr = num - 1;
  let cdepth = 2 * (31 - Math.clz32(num));
  for (;;) {
    if (cdepth < 0) {
      heapsortRange(v, a, pl, pr - pl + 1);
    } else {
      while (pr - pl > 15) {
        const pm = pl + ((pr - pl) >> 1);
        if (npLess(v[a[pm]], v[a[pl]])) swap(pm, pl);
        if (npLess(v[a[pr]], v[a[pm]])) swap(pr, pm);
        if (npLess(v[a[pm]], v[a[pl]])) swap(pm, pl);
        const vp = v[a[pm]];
        let pi = pl;
        let pj = pr - 1;
        swap(pm, pj);
        for (;;) {
          do ++pi;
          while (npLess(v[a[pi]], vp));
          do --pj;
          while (npLess(vp, v[a[pj]]));
          if (pi >= pj) break;
          swap(pi, pj);
        }
        swap(pi, pr - 1);
        // Continue with the smaller side; the larger waits on the stack.
        if (pi - pl < pr - pi) {
          stack.push(pi + 1, pr);
          pr = pi - 1;
        } else {
          stack.push(pl, pi - 1);
          pl = pi + 1;
        }
        depths.push(--cdepth);
      }
      for (let pi = pl + 1; pi <= pr; pi++) {
        const vi = a[pi];
        const vp = v[vi];
        let pj = pi;
        while (pj > pl && npLess(vp, v[a[pj - 1]])) {
          a[pj] = a[pj - 1];
          pj--;
        }
        a[pj] = vi;
      }
    }
    if (stack.length === 0) break;
    pr = stack.pop()!;
    pl = stack.pop()!;
    cdepth = depths.pop()!;
  }
  return a;
}

/** numpy's index heapsort of a[off .. off+n), the introsort fallback. */
function heapsortRange(v: ArrayLike<number>, a: Int32Array, off: number, n: number): void {
  // 1-based heap positions: position p is a[off + p − 1].
  const at = (p: number): number => a[off + p - 1];
  const set = (p: number, x: number): void => {
    a[off + p - 1] = x;
  };
  // Sift index `tmp` down from heap position i in a heap of `size` positions.
  const siftDown = (tmp: number, i: number, size: number): void => {
    for (let j = i << 1; j <= size; ) {
      if (j < size && npLess(v[at(j)], v[at(j + 1)])) j += 1;
      if (npLess(v[tmp], v[at(j)])) {
        set(i, at(j));
        i = j;
        j += j;
      } else break;
    }
    set(i, tmp);
  };
  for (let l = n >> 1; l > 0; --l) siftDown(at(l), l, n);
  for (; n > 1; ) {
    const tmp = at(n);
    set(n, at(1));
    n -= 1;
    siftDown(tmp, 1, n);
  }
}
