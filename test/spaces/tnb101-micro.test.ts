import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseCsv } from 'csv-parse/sync';
import { SHARED_DATA } from '../helpers/shared.js';
import { SpaceError } from '../../src/spaces/types.js';
import { tnb101MicroSpace as space, tnb101MicroFromOps, tnb101MicroToOps, tnb101MicroToApi } from '../../src/spaces/tnb101-micro.js';
import { Rng } from '../../src/util/rng.js';

const opsArb = fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 6, maxLength: 6 });
const archArb = opsArb.map((ops) => tnb101MicroFromOps(ops));

test('tnb101-micro: canonical form and api string by hand', () => {
  assert.equal(space.parse('(2, 3, 2, 3, 2, 3)'), '(2, 3, 2, 3, 2, 3)');
  assert.equal(space.parse('(2,3,2,3,2,3)'), '(2, 3, 2, 3, 2, 3)');
  assert.equal(space.parse('64-41414-2_32_323'), '(2, 3, 2, 3, 2, 3)');
  assert.equal(space.parse('64-41414-3_11_212'), '(3, 1, 1, 2, 1, 2)');
  assert.equal(tnb101MicroToApi('(3, 1, 1, 2, 1, 2)'), '64-41414-3_11_212');
});

test('tnb101-micro: parse rejects other text with a SpaceError', () => {
  const cases: [string, RegExp][] = [
    ['(2, 3, 2, 3, 2)', /6 ops/],
    ['(2, 3, 2, 3, 2, 4)', /0\.\.3/],
    ['64-41414-2_32_32', /expected an op tuple/],
    ['64-41414-4_32_323', /expected an op tuple/],
    ['64-232323-basic', /expected an op tuple/],
    ['|none~0|', /expected an op tuple/],
  ];
  for (const [text, msg] of cases) {
    assert.throws(() => space.parse(text), (e: unknown) => e instanceof SpaceError && msg.test(e.message), text);
  }
});

test('tnb101-micro: every row of micro.csv: arch is canonical and api_arch parses to it', () => {
  const rows = parseCsv(readFileSync(join(SHARED_DATA, 'tnb101', 'micro.csv')), { columns: true }) as Record<string, string>[];
  assert.equal(rows.length, 4096);
  for (const r of rows) {
    assert.equal(space.parse(r.arch), r.arch);
    assert.equal(space.parse(r.api_arch), r.arch);
    assert.equal(tnb101MicroToApi(r.arch), r.api_arch);
  }
  assert.deepEqual(rows.map((r) => r.arch).sort(), space.enumerate().sort());
});

test('tnb101-micro: round trips tuple ↔ api ↔ decisions (property)', () => {
  fc.assert(
    fc.property(opsArb, (ops) => {
      const arch = tnb101MicroFromOps(ops);
      assert.deepEqual(tnb101MicroToOps(arch), ops);
      assert.equal(space.parse(arch), arch);
      assert.equal(space.parse(tnb101MicroToApi(arch)), arch);
      assert.deepEqual(space.encode(arch), ops);
      assert.equal(space.decode(space.encode(arch)), arch);
    }),
  );
  assert.deepEqual(space.decisions, [4, 4, 4, 4, 4, 4]);
  assert.equal(space.decode([0, 0, 0, 0, 0, 4]), null);
  assert.equal(space.decode([0, 0, 0, 0, 0]), null);
});

test('tnb101-micro: mutate changes one position and lies in neighbours (property)', () => {
  fc.assert(
    fc.property(archArb, fc.integer(), (arch, seed) => {
      const child = space.mutate(arch, new Rng(seed));
      const a = tnb101MicroToOps(arch);
      const b = tnb101MicroToOps(child);
      assert.equal(a.filter((o, i) => o !== b[i]).length, 1);
      const nb = space.neighbours(arch);
      assert.ok(nb.includes(child));
      assert.equal(nb.length, 18);
      assert.equal(new Set(nb).size, 18);
    }),
  );
  const rng = new Rng(3);
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) seen.add(space.mutate('(0, 1, 2, 3, 0, 1)', rng));
  assert.deepEqual([...seen].sort(), space.neighbours('(0, 1, 2, 3, 0, 1)').sort());
});

test('tnb101-micro: enumerate gives 4,096 distinct cells in lexicographic order', () => {
  const all = space.enumerate();
  assert.equal(all.length, 4096);
  assert.equal(space.size, 4096);
  assert.equal(new Set(all).size, 4096);
  assert.equal(all[0], '(0, 0, 0, 0, 0, 0)');
  assert.equal(all[1], '(0, 0, 0, 0, 0, 1)');
  assert.equal(all[4095], '(3, 3, 3, 3, 3, 3)');
});
