import { SpaceError, type SearchSpace } from './types.js';
import { categoricalSpace } from './categorical.js';
import { formatTuple, parseIntTuple } from './nb201.js';

/** TransNAS-Bench-101 micro cell ops, indexed by their tuple value. */
export const TNB101_MICRO_OPS = ['none', 'skip_connect', 'conv1x1', 'conv3x3'] as const;

const EDGES = 6;
const N_OPS = TNB101_MICRO_OPS.length;

/**
 * The benchmark's api string, e.g. `64-41414-2_32_323` for (2, 3, 2, 3, 2, 3): fixed macro skeleton
 * `64-41414`, then the cell's ops grouped per node (node1 ← 0 | node2 ← 0,1 | node3 ← 0,1,2).
 */
const API_RE = /^\s*64-41414-([0-3])_([0-3]{2})_([0-3]{3})\s*$/;

/** Op tuple (6 ints 0..3) → canonical `(a, b, c, d, e, f)`. */
export function tnb101MicroFromOps(ops: readonly number[]): string {
  if (ops.length !== EDGES) throw new SpaceError(`tnb101-micro: expected ${EDGES} ops, got ${ops.length}`);
  for (const o of ops) {
    if (!Number.isInteger(o) || o < 0 || o >= N_OPS) {
      throw new SpaceError(`tnb101-micro: ops are integers 0..3 (none, skip, conv1x1, conv3x3), got ${o}`);
    }
  }
  return formatTuple(ops);
}

/** Any accepted notation → op tuple. */
export function tnb101MicroToOps(arch: string): number[] {
  const tuple = parseIntTuple(arch);
  if (tuple) {
    tnb101MicroFromOps(tuple); // validates
    return tuple;
  }
  const m = API_RE.exec(arch);
  if (m) return (m[1] + m[2] + m[3]).split('').map(Number);
  throw new SpaceError(
    `tnb101-micro: expected an op tuple of 6 ints 0..3 like "(2, 3, 2, 3, 2, 3)" or an api string like "64-41414-2_32_323", got "${arch}"`,
  );
}

/** Canonical → the benchmark's api string. */
export function tnb101MicroToApi(arch: string): string {
  const o = tnb101MicroToOps(arch);
  return `64-41414-${o[0]}_${o[1]}${o[2]}_${o[3]}${o[4]}${o[5]}`;
}

/**
 * TransNAS-Bench-101 micro (cell-level) space, 4^6 = 4,096 cells.
 * `enumerate()` order: lexicographic in the op tuple (base 4, first entry most significant).
 */
export const tnb101MicroSpace: SearchSpace = categoricalSpace({
  id: 'tnb101-micro',
  length: EDGES,
  choices: N_OPS,
  toVector: tnb101MicroToOps,
  fromVector: tnb101MicroFromOps,
});
