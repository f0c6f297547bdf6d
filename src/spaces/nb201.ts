import { SpaceError, type SearchSpace } from './types.js';
import { categoricalSpace } from './categorical.js';

/** NAS-Bench-201 operations; an op's index here is its value in `nb201ToOps` and in `encode`. */
export const NB201_OPS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'] as const;
export type Nb201Op = (typeof NB201_OPS)[number];

/** Number of edges of a cell: node1 ← 0; node2 ← 0,1; node3 ← 0,1,2. */
const EDGES = 6;
const N_OPS = NB201_OPS.length;

/**
 * NAS-Bench-Suite-Zero / NASLib op-index tuples use a different op numbering…
 * tuple op code → NB201_OPS index (skip_connect=0, none=1, nor_conv_3x3=2, nor_conv_1x1=3, avg_pool_3x3=4).
 */
const TUPLE_OP_TO_OP = [1, 0, 3, 2, 4];
const OP_TO_TUPLE_OP = [1, 0, 3, 2, 4]; // the mapping is its own inverse
/**
 * …and a different edge order: the tuple lists (0→1),(0→2),(0→3),(1→2),(1→3),(2→3), the string lists
 * 0→1 | 0→2, 1→2 | 0→3, 1→3, 2→3. TUPLE_EDGE_TO_STRING_EDGE[t] = string-order position of tuple edge t.
 */
const TUPLE_EDGE_TO_STRING_EDGE = [0, 1, 3, 2, 4, 5];

const OP_INDEX = new Map<string, number>(NB201_OPS.map((o, i) => [o, i]));

/**
 * Parses `(a, b, c)`-style integer tuples (whitespace-tolerant); null if the text is not one.
 * Shared by the TransNAS-Bench-101 spaces, whose canonical form is such a tuple.
 */
export function parseIntTuple(text: string): number[] | null {
  const m = /^\s*\(\s*(\d+(?:\s*,\s*\d+)*)\s*,?\s*\)\s*$/.exec(text);
  if (!m) return null;
  return m[1].split(',').map((s) => Number.parseInt(s.trim(), 10));
}

/** Python's `str(tuple)` form, `(2, 3, 1)`: the benchmarks' csv key. */
export function formatTuple(values: readonly number[]): string {
  return `(${values.join(', ')})`;
}

/** Op indices (NB201_OPS) in the canonical string's edge order → canonical string. */
export function nb201FromOps(ops: readonly number[]): string {
  if (ops.length !== EDGES) throw new SpaceError(`nb201: expected ${EDGES} op indices, got ${ops.length}`);
  for (const o of ops) {
    if (!Number.isInteger(o) || o < 0 || o >= N_OPS) {
      throw new SpaceError(`nb201: op index must be an integer 0..${N_OPS - 1}, got ${o}`);
    }
  }
  const op = (k: number): string => NB201_OPS[ops[k]];
  return `|${op(0)}~0|+|${op(1)}~0|${op(2)}~1|+|${op(3)}~0|${op(4)}~1|${op(5)}~2|`;
}

/** Canonical (or any accepted) notation → op indices in the string's edge order. */
export function nb201ToOps(arch: string): number[] {
  return parseCellString(arch) ?? parseTupleOps(arch) ?? failParse(arch);
}

/** Suite-Zero tuple (text `(4, 3, 3, 3, 2, 3)` or the numbers) → canonical string. */
export function nb201FromTuple(tuple: string | readonly number[]): string {
  let t: readonly number[];
  if (typeof tuple === 'string') {
    const parsed = parseIntTuple(tuple);
    if (!parsed) throw new SpaceError(`nb201: expected an op tuple like "(4, 3, 3, 3, 2, 3)", got "${tuple}"`);
    t = parsed;
  } else {
    t = tuple;
  }
  if (t.length !== EDGES) throw new SpaceError(`nb201: an op tuple has ${EDGES} entries, got ${t.length}`);
  const ops = new Array<number>(EDGES);
  for (let e = 0; e < EDGES; e++) {
    const v = t[e];
    if (!Number.isInteger(v) || v < 0 || v >= N_OPS) {
      throw new SpaceError(`nb201: tuple op codes are 0..4 (skip_connect, none, nor_conv_3x3, nor_conv_1x1, avg_pool_3x3), got ${v}`);
    }
    ops[TUPLE_EDGE_TO_STRING_EDGE[e]] = TUPLE_OP_TO_OP[v];
  }
  return nb201FromOps(ops);
}

/** Canonical string → Suite-Zero tuple (edge order (0→1),(0→2),(0→3),(1→2),(1→3),(2→3)). */
export function nb201ToTuple(arch: string): number[] {
  const ops = nb201ToOps(arch);
  return TUPLE_EDGE_TO_STRING_EDGE.map((s) => OP_TO_TUPLE_OP[ops[s]]);
}

function failParse(text: string): never {
  throw new SpaceError(
    `nb201: expected a cell string like "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|" ` +
      `or an op tuple like "(4, 3, 3, 3, 2, 3)", got "${text}"`,
  );
}

function parseTupleOps(text: string): number[] | null {
  if (parseIntTuple(text) === null) return null;
  return nb201ToOps(nb201FromTuple(text));
}

/**
 * Parses the `|op~in|+|…|` notation; null if the text does not look like one at all (so the caller can try
 * other notations), a SpaceError naming the problem if it does but is malformed.
 */
function parseCellString(text: string): number[] | null {
  // Op names contain no whitespace, so dropping all of it makes the parser whitespace-tolerant.
  const s = text.replace(/\s+/g, '');
  if (!s.startsWith('|')) return null;
  if (!s.endsWith('|')) throw new SpaceError(`nb201: a cell string ends with "|", got "${text}"`);
  const nodes = s.split('+');
  if (nodes.length !== 3) {
    throw new SpaceError(`nb201: a cell string has 3 nodes separated by "+", got ${nodes.length} in "${text}"`);
  }
  const ops: number[] = [];
  nodes.forEach((node, n) => {
    if (node.length < 2 || !node.startsWith('|') || !node.endsWith('|')) {
      throw new SpaceError(`nb201: node ${n + 1} must look like "|op~0|…|", got "${node}"`);
    }
    const edges = node.slice(1, -1).split('|');
    if (edges.length !== n + 1) {
      throw new SpaceError(`nb201: node ${n + 1} has ${n + 1} input edge(s), got ${edges.length} in "${node}"`);
    }
    edges.forEach((edge, input) => {
      const m = /^([^~]*)~(\d+)$/.exec(edge);
      if (!m) throw new SpaceError(`nb201: an edge is "op~input", got "${edge}"`);
      const op = OP_INDEX.get(m[1]);
      if (op === undefined) {
        throw new SpaceError(`nb201: unknown op "${m[1]}" in "${edge}" (expected one of ${NB201_OPS.join(', ')})`);
      }
      if (Number(m[2]) !== input) {
        throw new SpaceError(`nb201: edge ${input + 1} of node ${n + 1} must read from node ${input}, got "${edge}"`);
      }
      ops.push(op);
    });
  });
  return ops;
}

/**
 * NAS-Bench-201's cell space, 5^6 = 15,625 cells.
 * `enumerate()` order: the op-index vector (`nb201ToOps`, string edge order) counted in base 5 with the
 * first edge most significant — i.e. lexicographic in the vector. This is not the NAS-Bench-201 API's index order.
 */
export const nb201Space: SearchSpace = categoricalSpace({
  id: 'nb201',
  length: EDGES,
  choices: N_OPS,
  toVector: nb201ToOps,
  fromVector: nb201FromOps,
});
