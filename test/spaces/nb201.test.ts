import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseCsv } from 'csv-parse/sync';
import { SHARED_DATA } from '../helpers/shared.js';
import { SpaceError } from '../../src/spaces/types.js';
import { nb201Space, nb201FromOps, nb201ToOps, nb201FromTuple, nb201ToTuple, NB201_OPS } from '../../src/spaces/nb201.js';
import { Rng } from '../../src/util/rng.js';

const EXAMPLE = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';
const opsArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 6, maxLength: 6 });
const archArb = opsArb.map((ops) => nb201FromOps(ops));

test('nb201: the example string round-trips and has the expected ops', () => {
  assert.equal(nb201Space.parse(EXAMPLE), EXAMPLE);
  assert.deepEqual(nb201ToOps(EXAMPLE), [3, 3, 4, 1, 3, 1]);
  assert.deepEqual(
    nb201ToOps(EXAMPLE).map((o) => NB201_OPS[o]),
    ['nor_conv_3x3', 'nor_conv_3x3', 'avg_pool_3x3', 'skip_connect', 'nor_conv_3x3', 'skip_connect'],
  );
});

test('nb201: tuple conversion by hand (edge order and op codes differ from the string)', () => {
  // string edges: 0→1 | 0→2, 1→2 | 0→3, 1→3, 2→3 = conv3, conv3, avg | skip, conv3, skip
  // tuple edges (0→1),(0→2),(0→3),(1→2),(1→3),(2→3) = conv3, conv3, skip, avg, conv3, skip
  // tuple codes: skip 0, none 1, conv3 2, conv1 3, avg 4
  assert.deepEqual(nb201ToTuple(EXAMPLE), [2, 2, 0, 4, 2, 0]);
  assert.equal(nb201FromTuple('(2, 2, 0, 4, 2, 0)'), EXAMPLE);
  assert.equal(nb201FromTuple([2, 2, 0, 4, 2, 0]), EXAMPLE);
  assert.equal(nb201Space.parse('(2, 2, 0, 4, 2, 0)'), EXAMPLE);
  assert.equal(
    nb201FromTuple('(1, 3, 1, 1, 1, 1)'),
    '|none~0|+|nor_conv_1x1~0|none~1|+|none~0|none~1|none~2|',
  );
});

test('nb201: parse is whitespace-tolerant', () => {
  const spaced = ' | nor_conv_3x3 ~ 0 |\n+ |nor_conv_3x3~0| avg_pool_3x3~1 |+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|  ';
  assert.equal(nb201Space.parse(spaced), EXAMPLE);
  assert.equal(nb201Space.parse('  (2,2,0,4,2,0) '), EXAMPLE);
});

test('nb201: parse rejects malformed text with a SpaceError saying what was expected', () => {
  const cases: [string, RegExp][] = [
    ['|conv~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|', /unknown op "conv".*expected one of none, skip_connect/],
    ['|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|', /3 nodes/],
    ['|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|+|none~0|', /3 nodes/],
    ['|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~2|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|', /read from node 1/],
    ['|nor_conv_3x3~0|+|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|', /2 input edge/],
    ['|nor_conv_3x3|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|', /op~input/],
    ['(2, 2, 0, 4, 2)', /6 entries/],
    ['(2, 2, 0, 4, 2, 5)', /0\.\.4/],
    ['nor_conv_3x3', /expected a cell string/],
    ['', /expected a cell string/],
  ];
  for (const [text, msg] of cases) {
    assert.throws(() => nb201Space.parse(text), (e: unknown) => e instanceof SpaceError && msg.test(e.message), text);
  }
});

test('nb201: round trips string ↔ ops ↔ tuple ↔ decisions (property)', () => {
  fc.assert(
    fc.property(opsArb, (ops) => {
      const arch = nb201FromOps(ops);
      assert.deepEqual(nb201ToOps(arch), ops);
      assert.equal(nb201Space.parse(arch), arch);
      const tuple = nb201ToTuple(arch);
      assert.equal(nb201FromTuple(tuple), arch);
      assert.equal(nb201FromTuple(`(${tuple.join(', ')})`), arch);
      assert.equal(nb201Space.decode(nb201Space.encode(arch)), arch);
      assert.deepEqual(nb201Space.encode(arch), ops);
    }),
  );
});

test('nb201: decode rejects vectors that are not cells', () => {
  assert.equal(nb201Space.decode([0, 1, 2, 3, 4]), null);
  assert.equal(nb201Space.decode([0, 1, 2, 3, 4, 5]), null);
  assert.equal(nb201Space.decode([0, 1, 2, 3, 4, -1]), null);
  assert.deepEqual(nb201Space.decisions, [5, 5, 5, 5, 5, 5]);
});

test('nb201: mutate changes exactly one edge and is one of the neighbours (property)', () => {
  fc.assert(
    fc.property(archArb, fc.integer(), (arch, seed) => {
      const rng = new Rng(seed);
      const child = nb201Space.mutate(arch, rng);
      const a = nb201ToOps(arch);
      const b = nb201ToOps(child);
      assert.equal(a.filter((o, i) => o !== b[i]).length, 1);
      assert.ok(nb201Space.neighbours(arch).includes(child));
    }),
  );
});

test('nb201: neighbours are the 24 distinct single-edge changes, all reached by mutate', () => {
  fc.assert(
    fc.property(archArb, (arch) => {
      const nb = nb201Space.neighbours(arch);
      assert.equal(nb.length, 24);
      assert.equal(new Set(nb).size, 24);
      const ops = nb201ToOps(arch);
      for (const n of nb) assert.equal(nb201ToOps(n).filter((o, i) => o !== ops[i]).length, 1);
    }),
    { numRuns: 50 },
  );
  const rng = new Rng(7);
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) seen.add(nb201Space.mutate(EXAMPLE, rng));
  assert.deepEqual([...seen].sort(), nb201Space.neighbours(EXAMPLE).sort());
});

test('nb201: enumerate gives 15,625 distinct canonical cells in base-5 op order', () => {
  const all = nb201Space.enumerate();
  assert.equal(all.length, 15625);
  assert.equal(nb201Space.size, 15625);
  assert.equal(new Set(all).size, 15625);
  assert.deepEqual(nb201ToOps(all[0]), [0, 0, 0, 0, 0, 0]);
  assert.deepEqual(nb201ToOps(all[1]), [0, 0, 0, 0, 0, 1]);
  assert.deepEqual(nb201ToOps(all[15624]), [4, 4, 4, 4, 4, 4]);
  for (const a of all.slice(0, 200)) assert.equal(nb201Space.parse(a), a);
  all.pop(); // a copy: the space's own list is not affected
  assert.equal(nb201Space.enumerate().length, 15625);
});

test('nb201: every arch of the shared benchmark csv is canonical and in the space', () => {
  const rows = parseCsv(readFileSync(join(SHARED_DATA, 'nb201', 'cifar10.csv')), { columns: true }) as Record<string, string>[];
  const all = new Set(nb201Space.enumerate());
  assert.equal(rows.length, 15625);
  const csvArchs = new Set(rows.map((r) => r.arch));
  for (const a of csvArchs) assert.equal(nb201Space.parse(a), a);
  assert.deepEqual([...csvArchs].sort(), [...all].sort());
});

test('nb201: Suite-Zero tuples map to the right cells (val_accuracy tracks the csv 200-epoch accuracy)', () => {
  // No csv column equals Suite-Zero's val_accuracy exactly (it is a single training run, the csv holds the
  // mean over seeds); the closest is test_acc_200ep on cifar10. With the right tuple mapping the two agree to
  // a fraction of a point; a wrong edge order or op coding puts them points apart.
  const json = JSON.parse(readFileSync(join(SHARED_DATA, 'nb201', 'official', 'zc_nasbench201_subset491.json'), 'utf8')) as {
    nasbench201: Record<string, Record<string, { val_accuracy: number }>>;
  };
  const rows = parseCsv(readFileSync(join(SHARED_DATA, 'nb201', 'cifar10.csv')), { columns: true }) as Record<string, string>[];
  const byArch = new Map(rows.map((r) => [r.arch, r]));
  const entries = Object.entries(json.nasbench201.cifar10);
  assert.equal(entries.length, 491);

  const stats = (toArch: (t: string) => string, column: string): { mean: number; within: number } => {
    const diffs = entries.map(([t, v]) => {
      const row = byArch.get(toArch(t));
      assert.ok(row, t);
      return Math.abs(Number(row[column]) - v.val_accuracy);
    });
    return { mean: diffs.reduce((a, b) => a + b, 0) / diffs.length, within: diffs.filter((d) => d < 0.5).length };
  };

  const right = stats(nb201FromTuple, 'test_acc_200ep');
  assert.ok(right.mean < 0.3, `mean |Δ| ${right.mean}`);
  assert.ok(right.within > 0.85 * entries.length, `within 0.5: ${right.within}`);
  // test_acc_200ep is a closer match than the other accuracy columns
  for (const col of ['valid_acc_200ep', 'valid_acc_12ep', 'test_acc']) {
    assert.ok(stats(nb201FromTuple, col).mean > right.mean, col);
  }

  // Misreadings: tuple taken in the string's edge order, or conv1x1/conv3x3 codes swapped.
  const T2O = [1, 0, 3, 2, 4];
  const stringOrder = (t: string): string => nb201FromOps(tupleNums(t).map((v) => T2O[v]));
  const convSwapped = (t: string): string => nb201FromTuple(tupleNums(t).map((v) => (v === 2 ? 3 : v === 3 ? 2 : v)));
  assert.ok(stats(stringOrder, 'test_acc_200ep').mean > 2);
  assert.ok(stats(convSwapped, 'test_acc_200ep').mean > 1);

  // All three datasets use the same keys; every key parses and round-trips.
  for (const ds of ['cifar10', 'cifar100', 'ImageNet16-120']) {
    for (const t of Object.keys(json.nasbench201[ds])) {
      assert.equal(`(${nb201ToTuple(nb201Space.parse(t)).join(', ')})`, t);
    }
  }
});

function tupleNums(t: string): number[] {
  return t.replace(/[()\s]/g, '').split(',').map(Number);
}
