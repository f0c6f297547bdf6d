import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseCsv } from 'csv-parse/sync';
import { SHARED_DATA } from '../helpers/shared.js';
import { SpaceError } from '../../src/spaces/types.js';
import { tnb101MacroSpace as space, tnb101MacroToApi, tnb101MacroToCode, isTnb101MacroCode } from '../../src/spaces/tnb101-macro.js';
import { Rng } from '../../src/util/rng.js';

const ALL = space.enumerate();
const archArb = fc.integer({ min: 0, max: ALL.length - 1 }).map((i) => ALL[i]);

test('tnb101-macro: enumerate equals the set of networks in macro.csv; api strings match', () => {
  const rows = parseCsv(readFileSync(join(SHARED_DATA, 'tnb101', 'macro.csv')), { columns: true }) as Record<string, string>[];
  assert.equal(rows.length, 3256);
  for (const r of rows) {
    assert.equal(space.parse(r.arch), r.arch);
    assert.equal(space.parse(r.api_arch), r.arch);
    assert.equal(tnb101MacroToApi(r.arch), r.api_arch);
  }
  assert.equal(ALL.length, 3256);
  assert.equal(space.size, 3256);
  assert.equal(new Set(ALL).size, 3256);
  assert.deepEqual(rows.map((r) => r.arch).sort(), [...ALL].sort());
});

test('tnb101-macro: the constraint: 1-3 channel doublings (2/4), 1-4 downsamplings (3/4)', () => {
  assert.ok(isTnb101MacroCode([2, 3, 1, 1]));
  assert.ok(isTnb101MacroCode([4, 1, 1, 1]));
  assert.ok(isTnb101MacroCode([4, 4, 4, 3, 1, 1])); // 3 doublings, 4 downsamplings
  assert.ok(!isTnb101MacroCode([4, 4, 4, 4])); // 4 doublings
  assert.ok(!isTnb101MacroCode([3, 3, 3, 1])); // no doubling
  assert.ok(!isTnb101MacroCode([2, 2, 1, 1])); // no downsampling
  assert.ok(!isTnb101MacroCode([3, 3, 3, 3, 3, 2])); // 5 downsamplings
  assert.ok(!isTnb101MacroCode([2, 3, 1])); // too short
  assert.ok(!isTnb101MacroCode([2, 3, 1, 1, 1, 1, 1])); // too long
  assert.ok(!isTnb101MacroCode([2, 3, 1, 0]));
});

test('tnb101-macro: parse rejects other text with a SpaceError', () => {
  const cases: [string, RegExp][] = [
    ['(4, 4, 4, 4)', /not a network of the benchmark.*1-3 channel-doubling/],
    ['(2, 3, 1)', /not a network/],
    ['(2, 3, 1, 5)', /not a network/],
    ['64-4444-basic', /not a network/],
    ['64-2323-bottleneck', /expected a code tuple/],
    ['64-41414-2_32_323', /expected a code tuple/],
    ['hello', /expected a code tuple/],
  ];
  for (const [text, msg] of cases) {
    assert.throws(() => space.parse(text), (e: unknown) => e instanceof SpaceError && msg.test(e.message), text);
  }
  assert.equal(space.parse(' ( 1,2,1,4 ) '), '(1, 2, 1, 4)');
});

test('tnb101-macro: round trips code ↔ api ↔ decisions (property)', () => {
  fc.assert(
    fc.property(archArb, (arch) => {
      assert.equal(space.parse(arch), arch);
      assert.equal(space.parse(tnb101MacroToApi(arch)), arch);
      const enc = space.encode(arch);
      assert.equal(enc.length, 7);
      const code = tnb101MacroToCode(arch);
      assert.equal(enc[0], code.length - 4);
      assert.deepEqual(enc.slice(1 + code.length), new Array(6 - code.length).fill(0));
      assert.equal(space.decode(enc), arch);
    }),
  );
  assert.deepEqual(space.decisions, [3, 4, 4, 4, 4, 4, 4]);
});

test('tnb101-macro: decode ignores digits beyond the length and rejects codes outside the space', () => {
  fc.assert(
    fc.property(
      archArb,
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 6, maxLength: 6 }),
      (arch, junk) => {
        const enc = space.encode(arch);
        const len = enc[0] + 4;
        const noisy = [...enc.slice(0, 1 + len), ...junk.slice(len)];
        assert.equal(space.decode(noisy), arch);
      },
    ),
  );
  // decode(v) is null exactly when the code is not in the space
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 6, maxLength: 6 }),
      (l, digits) => {
        const code = digits.slice(0, l + 4).map((d) => d + 1);
        const got = space.decode([l, ...digits]);
        assert.equal(got === null, !isTnb101MacroCode(code));
      },
    ),
  );
  assert.equal(space.decode([3, 0, 0, 0, 0, 0, 0]), null);
  assert.equal(space.decode([0, 1, 2, 0, 0]), null);
});

test('tnb101-macro: mutate changes exactly one digit, stays in the space and lies in neighbours (property)', () => {
  const inSpace = new Set(ALL);
  fc.assert(
    fc.property(archArb, fc.integer(), (arch, seed) => {
      const child = space.mutate(arch, new Rng(seed));
      assert.ok(inSpace.has(child));
      const a = tnb101MacroToCode(arch);
      const b = tnb101MacroToCode(child);
      assert.equal(a.length, b.length);
      assert.equal(a.filter((d, i) => d !== b[i]).length, 1);
      assert.ok(space.neighbours(arch).includes(child));
    }),
  );
});

test('tnb101-macro: neighbours are exactly the in-space single-digit changes, never empty, all reached by mutate', () => {
  const inSpace = new Set(ALL);
  for (const arch of ALL) {
    const nb = space.neighbours(arch);
    assert.ok(nb.length > 0, arch);
    assert.equal(new Set(nb).size, nb.length);
    const code = tnb101MacroToCode(arch);
    let expected = 0;
    for (let p = 0; p < code.length; p++) {
      for (let d = 1; d <= 4; d++) {
        if (d === code[p]) continue;
        const next = code.slice();
        next[p] = d;
        if (inSpace.has(`(${next.join(', ')})`)) expected++;
      }
    }
    assert.equal(nb.length, expected, arch);
  }
  const rng = new Rng(11);
  const arch = '(4, 1, 1, 1)';
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) seen.add(space.mutate(arch, rng));
  assert.deepEqual([...seen].sort(), space.neighbours(arch).sort());
});
