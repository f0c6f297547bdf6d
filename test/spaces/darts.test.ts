import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DARTS_PRIMITIVES,
  DARTS_V2,
  dartsSpace,
  formatGenotype,
  genotypeToJson,
  parseCellWeights,
  parseGenotype,
  sampleGenotype,
  type DartsGenotype,
} from '../../src/spaces/darts.js';
import { getSpace, SpaceError } from '../../src/spaces/index.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

const V2_TEXT =
  "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], " +
  "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

const edgesArb = fc.tuple(
  ...[0, 0, 1, 1, 2, 2, 3, 3].map((node) => fc.tuple(fc.constantFrom(...DARTS_PRIMITIVES), fc.integer({ min: 0, max: node + 1 }))),
);
const genoArb: fc.Arbitrary<DartsGenotype> = fc.record({
  normal: edgesArb,
  normalConcat: fc.constant([2, 3, 4, 5]),
  reduce: edgesArb,
  reduceConcat: fc.constant([2, 3, 4, 5]),
}) as fc.Arbitrary<DartsGenotype>;

test('DARTS_V2 text (list concat, as printed by DARTS) parses to DARTS_V2; canonical form is Python str() with range', () => {
  assert.deepEqual(parseGenotype(V2_TEXT), DARTS_V2);
  const canon = dartsSpace.parse(V2_TEXT);
  assert.match(canon, /^Genotype\(normal=\[\('sep_conv_3x3', 0\), .*\], normal_concat=range\(2, 6\), reduce=\[.*\], reduce_concat=range\(2, 6\)\)$/);
  assert.equal(dartsSpace.parse(canon.replace(/'/g, '"')), canon);
  assert.equal(dartsSpace.parse(genotypeToJson(DARTS_V2)), canon);
  assert.equal(getSpace('darts'), dartsSpace);
});

test('parse/format and JSON round trips (property)', () => {
  fc.assert(
    fc.property(genoArb, (rec) => {
      const g = { ...rec }; // fast-check records have a null prototype
      const s = formatGenotype(g);
      assert.deepEqual(parseGenotype(s), g);
      assert.deepEqual(parseGenotype(genotypeToJson(g)), g);
      assert.equal(dartsSpace.parse(s), s);
    }),
    { numRuns: 200 },
  );
});

test('invalid genotypes are SpaceErrors; enumerate() is an InputError', () => {
  for (const bad of [
    'Genotype(normal=[], normal_concat=range(2, 6), reduce=[], reduce_concat=range(2, 6))',
    V2_TEXT.replace("('sep_conv_3x3', 1)", "('conv_7x1_1x7', 1)"),
    V2_TEXT.replace("('sep_conv_3x3', 0)", "('sep_conv_3x3', 2)"), // node 2 reads only 0, 1
    '{"normal": 3}',
    'nonsense',
  ]) {
    assert.throws(() => parseGenotype(bad), SpaceError, bad);
  }
  assert.doesNotThrow(() => parseGenotype(V2_TEXT.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 4)"))); // the last node reads 0..4
  assert.throws(() => dartsSpace.enumerate(), InputError);
  assert.ok(dartsSpace.size > 1e20 && Number.isFinite(dartsSpace.size));
});

test("_parse: per node the two edges with the strongest non-none op, ordered strongest first", () => {
  const cols = 7;
  const w = new Float64Array(14 * cols).fill(0.1);
  const set = (row: number, k: number, v: number) => (w[row * cols + k] = v);
  // node 0 (rows 0,1): none is ignored even when largest.
  set(0, 0, 0.99);
  set(0, 4, 0.5);
  set(1, 2, 0.6);
  // node 1 (rows 2..4): edge 2 (row 4) strongest, then edge 0.
  set(2, 6, 0.7);
  set(4, 5, 0.8);
  // node 2 (rows 5..8), node 3 (rows 9..13)
  set(8, 1, 0.9);
  set(6, 3, 0.4);
  set(13, 3, 0.95);
  set(9, 4, 0.3);
  assert.deepEqual(parseCellWeights(w, cols), [
    ['avg_pool_3x3', 1],
    ['sep_conv_3x3', 0],
    ['sep_conv_5x5', 2],
    ['dil_conv_3x3', 0],
    ['max_pool_3x3', 3],
    ['skip_connect', 1],
    ['skip_connect', 4],
    ['sep_conv_3x3', 0],
  ]);
});

test('sampling is seeded, yields valid in-space genotypes, and 7 columns never choose dil_conv_5x5 (RoBoT)', () => {
  const a = Array.from({ length: 50 }, ((r) => () => formatGenotype(sampleGenotype(r)))(new Rng(0, 'numpy')));
  const b = Array.from({ length: 50 }, ((r) => () => formatGenotype(sampleGenotype(r)))(new Rng(0, 'numpy')));
  assert.deepEqual(a, b);
  assert.ok(new Set(a).size === 50);
  for (const s of a) {
    assert.ok(!s.includes('dil_conv_5x5') && !s.includes("'none'"));
    assert.equal(dartsSpace.decode(dartsSpace.encode(s)), s);
  }
  const r8 = new Rng(1);
  const all = Array.from({ length: 50 }, () => formatGenotype(sampleGenotype(r8, { columns: 8 }))).join();
  assert.ok(all.includes('dil_conv_5x5'));
});

test('mutation changes exactly one decision and stays in the space; neighbours are the one-change set (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 0, max: 1e6 }), (s1, s2) => {
      const arch = formatGenotype(sampleGenotype(new Rng(s1)));
      const m = dartsSpace.mutate(arch, new Rng(s2));
      const va = dartsSpace.encode(arch);
      const vm = dartsSpace.encode(m);
      assert.equal(va.filter((v, i) => v !== vm[i]).length, 1);
      assert.equal(dartsSpace.parse(m), m);
      const nb = dartsSpace.neighbours(arch);
      assert.ok(nb.includes(m));
      assert.equal(new Set(nb).size, nb.length);
    }),
    { numRuns: 60 },
  );
});
