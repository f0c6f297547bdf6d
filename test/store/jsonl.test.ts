import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { JsonlStore } from '../../src/store/jsonl.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { StoredResult as CachedQuery } from '../../src/store/types.js';
import { queryKey } from '../../src/util/key.js';
import { re, tempDir, throwsInput } from '../data/util.js';

const rec = (key: string, value: number, extra: Partial<CachedQuery> = {}): CachedQuery => ({
  key,
  arch: `arch-${key}`,
  value,
  cost: 12.5,
  finished: '2024-05-01T10:00:00.000Z',
  ...extra,
});

test('queryKey: hex SHA-256, key order irrelevant, array order and values relevant', () => {
  const k = queryKey({ arch: 'a', epochs: 12, data: { name: 'cifar10', seed: 0 } });
  assert.match(k, /^[0-9a-f]{64}$/);
  assert.equal(k, queryKey({ data: { seed: 0, name: 'cifar10' }, epochs: 12, arch: 'a' }));
  assert.notEqual(k, queryKey({ arch: 'a', epochs: 13, data: { name: 'cifar10', seed: 0 } }));
  assert.notEqual(queryKey([1, 2]), queryKey([2, 1]));
  assert.notEqual(queryKey({ a: '1' }), queryKey({ a: 1 }));
  assert.notEqual(queryKey({ a: [] }), queryKey({ a: {} }));
});

test('queryKey: non-finite numbers, undefined and non-JSON values are rejected', () => {
  assert.throws(() => queryKey({ lr: NaN }), /non-finite number at \$\.lr/);
  assert.throws(() => queryKey([1, Infinity]), /non-finite/);
  assert.throws(() => queryKey({ a: undefined }), /undefined value at \$\.a/);
  assert.throws(() => queryKey([undefined]), /undefined/);
  assert.throws(() => queryKey({ f: () => 1 }), /function/);
  assert.throws(() => queryKey({ d: new Date(0) }), /unsupported object/);
  const cyc: Record<string, unknown> = {};
  cyc.self = cyc;
  assert.throws(() => queryKey(cyc), /cyclic/);
  // a shared (non-cyclic) sub-object is fine
  const shared = { x: 1 };
  assert.equal(queryKey({ a: shared, b: shared }), queryKey({ b: { x: 1 }, a: { x: 1 } }));
});

test('queryKey property: independent of object key order at every level', () => {
  const json = fc.jsonValue({ maxDepth: 4 });
  /** A deep copy with object keys in a permuted order. */
  const permute = (v: unknown, r: number): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => permute(x, r + i));
    if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      const rot = keys.length ? r % keys.length : 0;
      const order = [...keys.slice(rot), ...keys.slice(0, rot)].reverse();
      const out: Record<string, unknown> = Object.create(null); // a '__proto__' key stays a plain key
      for (const k of order) out[k] = permute((v as Record<string, unknown>)[k], r + k.length);
      return out;
    }
    return v;
  };
  fc.assert(
    fc.property(json, fc.nat(100), (v, r) => {
      assert.equal(queryKey(permute(v, r)), queryKey(v));
    }),
  );
});

test('round trip across reopen; a later record with the same key wins; folders are created', () => {
  const dir = tempDir('qc');
  const file = join(dir, 'sub', 'deeper', 'queries.jsonl');
  const c = JsonlStore.open(file);
  assert.equal(c.size, 0);
  assert.equal(existsSync(join(dir, 'sub', 'deeper')), true);
  c.put(rec('a', 0.5, { details: { epochs: 3, curve: [0.1, 0.4, 0.5] } }));
  c.put(rec('b', 0.75));
  c.put(rec('a', 0.6));
  assert.equal(c.get('a')!.value, 0.6);
  assert.equal(readFileSync(file, 'utf8').split('\n').length, 4);
  const d = JsonlStore.open(file);
  assert.equal(d.size, 2);
  assert.ok(d.get('a') && d.get('b') && !d.get('c'));
  assert.deepEqual(d.get('a'), rec('a', 0.6));
  assert.deepEqual(d.get('b'), rec('b', 0.75));
  assert.deepEqual(d.records().map((r) => r.key).sort(), ['a', 'b']);
  d.put(rec('c', 0.1, { details: { note: 'x' } }));
  assert.deepEqual(JsonlStore.open(file).get('c'), rec('c', 0.1, { details: { note: 'x' } }));
});

test('memory store: no file; put rejects malformed records', () => {
  const m = new MemoryStore();
  assert.equal(m.location, undefined);
  m.put(rec('k', 1));
  assert.equal(m.scan().length, 1);
  assert.throws(() => m.put(rec('z', NaN)), /malformed record/);
  assert.throws(() => m.put({ ...rec('z', 1), cost: -1 }), /malformed/);
  assert.equal(m.scan().length, 1);
});

test('a torn last line is dropped and cut off, so appends stay well-formed', () => {
  const dir = tempDir('qc-torn');
  const file = join(dir, 'q.jsonl');
  const good = `${JSON.stringify(rec('a', 0.5))}\n`;
  const torn = JSON.stringify(rec('b', 0.7)).slice(0, 30);
  writeFileSync(file, good + torn);
  const c = JsonlStore.open(file);
  assert.equal(c.size, 1);
  assert.equal(readFileSync(file, 'utf8'), good);
  c.put(rec('b', 0.7));
  const d = JsonlStore.open(file);
  assert.deepEqual(d.records(), [rec('a', 0.5), rec('b', 0.7)]);
  // an unparsable last line that did get its newline is also dropped
  appendFileSync(file, '{"key": "c", "arch\n\n');
  assert.equal(JsonlStore.open(file).size, 2);
  assert.equal(readFileSync(file, 'utf8').split('\n').length, 3);
  // a torn multi-byte character
  writeFileSync(file, Buffer.concat([Buffer.from(good), Buffer.from('{"key":"é'.slice(0, 9)), Buffer.from('é').subarray(0, 1)]));
  assert.equal(JsonlStore.open(file).size, 1);
  assert.equal(readFileSync(file, 'utf8'), good);
});

test('a complete last record without its newline is kept and the newline restored', () => {
  const dir = tempDir('qc-nonl');
  const file = join(dir, 'q.jsonl');
  writeFileSync(file, `${JSON.stringify(rec('a', 0.5))}\n${JSON.stringify(rec('b', 0.25))}`);
  const c = JsonlStore.open(file);
  assert.equal(c.size, 2);
  c.put(rec('c', 1));
  assert.equal(JsonlStore.open(file).size, 3);
});

test('blank lines are skipped; an empty file is an empty cache', () => {
  const dir = tempDir('qc-blank');
  const file = join(dir, 'q.jsonl');
  writeFileSync(file, '');
  assert.equal(JsonlStore.open(file).size, 0);
  writeFileSync(file, `\n${JSON.stringify(rec('a', 0.5))}\n\n${JSON.stringify(rec('b', 0.5))}\n\n`);
  assert.equal(JsonlStore.open(file).size, 2);
});

test('a bad line in the middle, or an ill-typed last record, is an InputError naming file and line', () => {
  const dir = tempDir('qc-bad');
  const file = join(dir, 'q.jsonl');
  const line = (r: unknown) => `${JSON.stringify(r)}\n`;
  writeFileSync(file, line(rec('a', 1)) + 'not json\n' + line(rec('b', 2)));
  throwsInput(() => JsonlStore.open(file), re(`${file}:2: `), /expected a JSON query record \{key, arch, value, cost, finished\}, got not json/);
  writeFileSync(file, line(rec('a', 1)) + line(rec('b', 2)) + line({ ...rec('c', 3), value: 'high' }) + line(rec('d', 2)));
  throwsInput(() => JsonlStore.open(file), re(`${file}:3: `));
  writeFileSync(file, line(rec('a', 1)) + line({ key: 'b', arch: 'x', value: 1, finished: 'now' }));
  throwsInput(() => JsonlStore.open(file), re(`${file}:2: `));
  writeFileSync(file, line([1, 2]) + line(rec('a', 1)));
  throwsInput(() => JsonlStore.open(file), re(`${file}:1: `));
  // the file is left as it was
  assert.equal(readFileSync(file, 'utf8'), line([1, 2]) + line(rec('a', 1)));
});
