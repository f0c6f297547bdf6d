import { InputError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import { SpaceError, type SearchSpace } from './types.js';

/**
 * The DARTS cell space (Liu et al., 2019) as RoBoT's darts_space uses it: a normal and a reduction cell, each
 * with 4 intermediate nodes; node i (0-based) sums two edges, each an op applied to one of its i + 2
 * predecessors (0, 1: the two previous cells' outputs; 2 + j: node j); the cell outputs the channel
 * concatenation of nodes 2..5.
 *
 * Canonical string: exactly Python's `str()` of DARTS's Genotype namedtuple, e.g.
 * `Genotype(normal=[('sep_conv_3x3', 0), …], normal_concat=range(2, 6), reduce=[…], reduce_concat=range(2, 6))`,
 * which is also the key of RoBoT's pickled pool (`str(geno)`). Edge order inside a node is kept as given (the
 * order `_parse` produced it in: strongest first); it fixes module and parameter order.
 */

export const DARTS_PRIMITIVES = [
  'none',
  'max_pool_3x3',
  'avg_pool_3x3',
  'skip_connect',
  'sep_conv_3x3',
  'sep_conv_5x5',
  'dil_conv_3x3',
  'dil_conv_5x5',
] as const;
export type DartsOp = (typeof DARTS_PRIMITIVES)[number];

export type DartsEdge = [DartsOp, number];

export interface DartsGenotype {
  normal: DartsEdge[];
  normalConcat: number[];
  reduce: DartsEdge[];
  reduceConcat: number[];
}

export const DARTS_STEPS = 4;
const EDGES_PER_CELL = 2 * DARTS_STEPS;
const DEFAULT_CONCAT = [2, 3, 4, 5];

/** DARTS_V2 of DARTS's genotypes.py (the paper's second-order cell). */
export const DARTS_V2: DartsGenotype = {
  normal: [
    ['sep_conv_3x3', 0],
    ['sep_conv_3x3', 1],
    ['sep_conv_3x3', 0],
    ['sep_conv_3x3', 1],
    ['sep_conv_3x3', 1],
    ['skip_connect', 0],
    ['skip_connect', 0],
    ['dil_conv_3x3', 2],
  ],
  normalConcat: [2, 3, 4, 5],
  reduce: [
    ['max_pool_3x3', 0],
    ['max_pool_3x3', 1],
    ['skip_connect', 2],
    ['max_pool_3x3', 1],
    ['max_pool_3x3', 0],
    ['skip_connect', 2],
    ['skip_connect', 2],
    ['max_pool_3x3', 1],
  ],
  reduceConcat: [2, 3, 4, 5],
};

function isOp(s: string): s is DartsOp {
  return (DARTS_PRIMITIVES as readonly string[]).includes(s);
}

/** Throws a SpaceError unless g is a well-formed genotype (ops known, inputs 0..node+1, concat distinct in 0..5). */
export function validateGenotype(g: DartsGenotype): DartsGenotype {
  for (const [cell, edges, concat] of [
    ['normal', g.normal, g.normalConcat],
    ['reduce', g.reduce, g.reduceConcat],
  ] as const) {
    if (!Array.isArray(edges) || edges.length !== EDGES_PER_CELL) {
      throw new SpaceError(`darts: ${cell} needs ${EDGES_PER_CELL} (op, input) edges (2 per node), got ${Array.isArray(edges) ? edges.length : typeof edges}`);
    }
    edges.forEach((e, i) => {
      if (!Array.isArray(e) || e.length !== 2) throw new SpaceError(`darts: ${cell} edge ${i} must be an (op, input) pair`);
      const [op, input] = e;
      if (typeof op !== 'string' || !isOp(op)) throw new SpaceError(`darts: ${cell} edge ${i}: unknown op "${String(op)}" (expected one of ${DARTS_PRIMITIVES.join(', ')})`);
      const node = i >> 1;
      if (!Number.isInteger(input) || input < 0 || input > node + 1) {
        throw new SpaceError(`darts: ${cell} edge ${i} (node ${node + 2}) reads input ${String(input)}; allowed 0..${node + 1}`);
      }
    });
    if (!Array.isArray(concat) || concat.length === 0 || new Set(concat).size !== concat.length || concat.some((c) => !Number.isInteger(c) || c < 0 || c > DARTS_STEPS + 1)) {
      throw new SpaceError(`darts: ${cell}_concat must be distinct node indices in 0..${DARTS_STEPS + 1}, got ${JSON.stringify(concat)}`);
    }
  }
  return g;
}

function formatConcat(c: readonly number[]): string {
  const contiguous = c.every((v, i) => i === 0 || v === c[i - 1] + 1);
  return contiguous ? `range(${c[0]}, ${c[c.length - 1] + 1})` : `[${c.join(', ')}]`;
}

function formatEdges(edges: readonly DartsEdge[]): string {
  return `[${edges.map(([op, i]) => `('${op}', ${i})`).join(', ')}]`;
}

/** Python's str() of the Genotype namedtuple. */
export function formatGenotype(g: DartsGenotype): string {
  validateGenotype(g);
  return (
    `Genotype(normal=${formatEdges(g.normal)}, normal_concat=${formatConcat(g.normalConcat)}, ` +
    `reduce=${formatEdges(g.reduce)}, reduce_concat=${formatConcat(g.reduceConcat)})`
  );
}

export function genotypeToJson(g: DartsGenotype): string {
  validateGenotype(g);
  return JSON.stringify({ normal: g.normal, normalConcat: g.normalConcat, reduce: g.reduce, reduceConcat: g.reduceConcat });
}

const EDGE_RE = /\(\s*['"]([a-z0-9_]+)['"]\s*,\s*(\d+)\s*\)/g;

function parseEdgeList(text: string, what: string): DartsEdge[] {
  const inner = text.trim();
  if (!/^\[.*\]$/s.test(inner)) throw new SpaceError(`darts: ${what} must be a list [('op', input), …]`);
  const body = inner.slice(1, -1);
  const out: DartsEdge[] = [];
  for (const m of body.matchAll(EDGE_RE)) out.push([m[1] as DartsOp, Number(m[2])]);
  // Everything that is not an edge tuple must be separators.
  const rest = body.replace(EDGE_RE, '').replace(/[\s,]/g, '');
  if (rest !== '') throw new SpaceError(`darts: cannot read ${what}: unexpected "${rest.slice(0, 40)}"`);
  return out;
}

function parseConcat(text: string, what: string): number[] {
  const t = text.trim();
  const r = /^range\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
  if (r) {
    const a = Number(r[1]);
    const b = Number(r[2]);
    return Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);
  }
  const l = /^[[(]\s*(\d+(?:\s*,\s*\d+)*)?\s*,?\s*[\])]$/.exec(t);
  if (l) return l[1] === undefined ? [] : l[1].split(',').map((v) => Number(v.trim()));
  throw new SpaceError(`darts: ${what} must be range(a, b) or a list of ints, got "${t}"`);
}

const GENOTYPE_RE =
  /^\s*Genotype\(\s*normal\s*=\s*(\[.*?\])\s*,\s*normal_concat\s*=\s*(range\([^)]*\)|\[[^\]]*\]|\([^)]*\))\s*,\s*reduce\s*=\s*(\[.*?\])\s*,\s*reduce_concat\s*=\s*(range\([^)]*\)|\[[^\]]*\]|\([^)]*\))\s*\)\s*$/s;

/** Python Genotype text (range or list concat, either quote style) or JSON → genotype. */
export function parseGenotype(text: string): DartsGenotype {
  const t = text.trim();
  if (t.startsWith('{')) {
    let j: unknown;
    try {
      j = JSON.parse(t);
    } catch (err) {
      throw new SpaceError(`darts: invalid JSON genotype: ${(err as Error).message}`);
    }
    const o = j as Record<string, unknown>;
    const g = {
      normal: o.normal,
      normalConcat: o.normalConcat ?? o.normal_concat ?? DEFAULT_CONCAT,
      reduce: o.reduce,
      reduceConcat: o.reduceConcat ?? o.reduce_concat ?? DEFAULT_CONCAT,
    } as DartsGenotype;
    return validateGenotype(g);
  }
  const m = GENOTYPE_RE.exec(t);
  if (!m) {
    throw new SpaceError(
      `darts: expected "Genotype(normal=[('sep_conv_3x3', 0), …], normal_concat=range(2, 6), reduce=[…], reduce_concat=range(2, 6))" or a JSON genotype, got "${t.slice(0, 80)}"`,
    );
  }
  return validateGenotype({
    normal: parseEdgeList(m[1], 'normal'),
    normalConcat: parseConcat(m[2], 'normal_concat'),
    reduce: parseEdgeList(m[3], 'reduce'),
    reduceConcat: parseConcat(m[4], 'reduce_concat'),
  });
}

// ---- sampling as RoBoT's darts_space/search.py builds its pool ----

/**
 * Number of architecture-weight columns RoBoT draws per edge: `size = [14 * 2, 7]`, i.e. PRIMITIVES[0..6].
 * So dil_conv_5x5 (index 7) never occurs in RoBoT's pool; pass `columns: 8` to draw over all 8 primitives.
 */
export const ROBOT_COLUMNS = 7;

export interface DartsSampleOptions {
  /** Architecture-weight columns per edge (7 = RoBoT, 8 = all primitives). Default 7. */
  columns?: 7 | 8;
}

/**
 * DARTS's `_parse` on one cell's 14 × columns (softmaxed) weights (rows: the edges of node 0 (2), node 1 (3),
 * …): per node, the 2 incoming edges whose strongest non-`none` weight is largest (ties: lower edge first,
 * Python's stable sort), each with that op (ties: first column).
 */
export function parseCellWeights(w: ArrayLike<number>, columns: number): DartsEdge[] {
  const gene: DartsEdge[] = [];
  let start = 0;
  for (let i = 0; i < DARTS_STEPS; i++) {
    const n = i + 2;
    const best: { edge: number; op: number; v: number }[] = [];
    for (let j = 0; j < n; j++) {
      let kBest = -1;
      for (let k = 1; k < columns; k++) {
        if (kBest < 0 || w[(start + j) * columns + k] > w[(start + j) * columns + kBest]) kBest = k;
      }
      best.push({ edge: j, op: kBest, v: w[(start + j) * columns + kBest] });
    }
    const top = best.slice().sort((a, b) => b.v - a.v || a.edge - b.edge).slice(0, 2);
    for (const e of top) gene.push([DARTS_PRIMITIVES[e.op], e.edge]);
    start += n;
  }
  return gene;
}

/**
 * One genotype as RoBoT samples it: `np.random.random_sample((28, columns))` (rows 0..13 normal, 14..27
 * reduce, row-major), softmax per row, `_parse` each cell. With `new Rng(seed, 'numpy')` the sequence of
 * samples is RoBoT's pool for `--seed seed` (its main calls np.random.seed(seed) first).
 */
export function sampleGenotype(rng: Rng, opts: DartsSampleOptions = {}): DartsGenotype {
  const columns = opts.columns ?? ROBOT_COLUMNS;
  const w = new Float64Array(2 * 14 * columns);
  for (let i = 0; i < w.length; i++) w[i] = rng.next();
  // The softmax matters: edges are ranked by their best probability, which depends on each row's normaliser.
  for (let r = 0; r < 28; r++) softmaxRow(w.subarray(r * columns, (r + 1) * columns));
  return {
    normal: parseCellWeights(w.subarray(0, 14 * columns), columns),
    normalConcat: DEFAULT_CONCAT.slice(),
    reduce: parseCellWeights(w.subarray(14 * columns), columns),
    reduceConcat: DEFAULT_CONCAT.slice(),
  };
}

/** scipy.special.softmax of one row in float64: exp(x − max) / Σ. */
function softmaxRow(x: Float64Array): void {
  let m = -Infinity;
  for (const v of x) m = Math.max(m, v);
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    x[i] = Math.exp(x[i] - m);
    s += x[i];
  }
  for (let i = 0; i < x.length; i++) x[i] /= s;
}

// ---- the SearchSpace view ----

/** Ops a mutation or decision may choose: every primitive but `none` (DARTS's `_parse` never keeps `none`). */
const SPACE_OPS: readonly DartsOp[] = DARTS_PRIMITIVES.filter((o) => o !== 'none');

/**
 * Decision vector: per cell (normal, reduce), per node i, per edge e: op index in SPACE_OPS, then input 0..i+1.
 * Concat is fixed at 2..5.
 */
const SIZES: readonly number[] = Object.freeze(decisionSizes());

function decisionSizes(): number[] {
  const out: number[] = [];
  for (let cell = 0; cell < 2; cell++) {
    for (let i = 0; i < DARTS_STEPS; i++) for (let e = 0; e < 2; e++) out.push(SPACE_OPS.length, i + 2);
  }
  return out;
}

function cellOk(edges: readonly DartsEdge[]): boolean {
  for (let i = 0; i < DARTS_STEPS; i++) if (edges[2 * i][1] === edges[2 * i + 1][1]) return false;
  return true;
}

function inSpace(g: DartsGenotype): string | null {
  const sameConcat = (c: number[]) => c.length === 4 && c.every((v, i) => v === DEFAULT_CONCAT[i]);
  if (!sameConcat(g.normalConcat) || !sameConcat(g.reduceConcat)) return 'concat other than range(2, 6)';
  if ([...g.normal, ...g.reduce].some(([op]) => op === 'none')) return "a 'none' edge";
  if (!cellOk(g.normal) || !cellOk(g.reduce)) return 'a node reading the same input twice';
  return null;
}

function encodeGenotype(g: DartsGenotype): number[] {
  const why = inSpace(g);
  if (why) throw new SpaceError(`darts: genotype outside the search space's decisions (${why})`);
  const v: number[] = [];
  for (const edges of [g.normal, g.reduce]) for (const [op, input] of edges) v.push(SPACE_OPS.indexOf(op), input);
  return v;
}

function decodeGenotype(v: readonly number[]): DartsGenotype | null {
  const sizes = SIZES;
  if (v.length !== sizes.length || v.some((x, i) => !Number.isInteger(x) || x < 0 || x >= sizes[i])) return null;
  const cells: DartsEdge[][] = [[], []];
  for (let p = 0; p < v.length; p += 2) cells[p < 2 * EDGES_PER_CELL ? 0 : 1].push([SPACE_OPS[v[p]], v[p + 1]]);
  const g: DartsGenotype = { normal: cells[0], normalConcat: DEFAULT_CONCAT.slice(), reduce: cells[1], reduceConcat: DEFAULT_CONCAT.slice() };
  return inSpace(g) === null ? g : null;
}

/** Ordered genotypes per cell: Π_i (i+2)(i+1) ordered input pairs × 7^8 op choices; two cells. */
function spaceSize(): number {
  let pairs = 1;
  for (let i = 0; i < DARTS_STEPS; i++) pairs *= (i + 2) * (i + 1);
  const perCell = pairs * SPACE_OPS.length ** EDGES_PER_CELL;
  return perCell * perCell;
}

/**
 * The DARTS space as a SearchSpace: `size` ≈ 2.8·10²⁰ ordered genotypes (too many to enumerate: `enumerate()`
 * throws; sample with `sampleGenotype`). `mutate` changes one edge's op (to another non-`none` primitive) or
 * its input (to another predecessor not already used by the node's other edge).
 */
export const dartsSpace: SearchSpace = {
  id: 'darts',
  size: spaceSize(),
  decisions: SIZES,

  parse(text: string): string {
    return formatGenotype(parseGenotype(text));
  },

  enumerate(): string[] {
    throw new InputError(
      'search space "darts" has ~2.8e20 architectures and cannot be enumerated; it is sampled (RoBoT draws its pool with sampleGenotype)',
    );
  },

  mutate(arch: string, rng: Rng): string {
    const v = encodeGenotype(parseGenotype(arch));
    const sizes = SIZES;
    for (;;) {
      const p = rng.int(v.length);
      const d = rng.int(sizes[p] - 1);
      const next = v.slice();
      next[p] = d >= v[p] ? d + 1 : d;
      const g = decodeGenotype(next);
      // An input change onto the node's other input is not a DARTS cell: draw again.
      if (g) return formatGenotype(g);
    }
  },

  neighbours(arch: string): string[] {
    const v = encodeGenotype(parseGenotype(arch));
    const out: string[] = [];
    v.forEach((x, p) => {
      for (let d = 0; d < SIZES[p]; d++) {
        if (d === x) continue;
        const next = v.slice();
        next[p] = d;
        const g = decodeGenotype(next);
        if (g) out.push(formatGenotype(g));
      }
    });
    return out;
  },

  encode(arch: string): number[] {
    return encodeGenotype(parseGenotype(arch));
  },

  decode(choices: readonly number[]): string | null {
    const g = decodeGenotype(choices);
    return g ? formatGenotype(g) : null;
  },
};
