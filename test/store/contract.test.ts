/**
 * One contract, every ResultStore (as Optuna runs one storage test over every backend): what `get`, `put`, `scan` and
 * `claim` promise, and a JobObjective computing each key once on top. A new backend joins by adding itself to STORES.
 * Backend-specific behaviour (the JSONL file's torn lines, several processes) is tested in jsonl.test.ts and
 * claims.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { JobObjective } from '../../src/objective/jobs.js';
import { JsonlStore } from '../../src/store/jsonl.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { ResultStore, StoredResult } from '../../src/store/types.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('robot-nas-contract-');

interface Backend {
  name: string;
  /** A fresh, empty store. */
  open(): ResultStore;
  /** Another handle on the same store (another process's view for a shared one; the same object otherwise). */
  again(s: ResultStore): ResultStore;
}

export const STORES: Backend[] = [
  {
    name: 'JsonlStore',
    open: () => JsonlStore.open(join(tmp(), 'cache.jsonl')),
    again: (s) => JsonlStore.open(s.location!),
  },
  { name: 'MemoryStore', open: () => new MemoryStore(), again: (s) => s },
];

const rec = (key: string, value: number, extra: Partial<StoredResult> = {}): StoredResult => ({
  key,
  arch: `arch-${key}`,
  value,
  cost: 10,
  finished: '2026-01-01T00:00:00.000Z',
  ...extra,
});

for (const b of STORES) {
  describe(`ResultStore contract: ${b.name}`, () => {
    test('an empty store has nothing; a put is read back whole, details included', () => {
      const s = b.open();
      assert.equal(s.get('k'), undefined);
      assert.deepEqual(s.scan(), []);
      const r = rec('k', 0.5, { details: { epochs: 3, curve: [0.1, 0.5], diverged: false } });
      s.put(r);
      assert.deepEqual(s.get('k'), r);
      assert.deepEqual(b.again(s).get('k'), r, 'another handle sees it');
      assert.deepEqual(s.scan(), [r]);
    });

    test('a later result for a key wins; scan holds one record per key; stray fields are not kept', () => {
      const s = b.open();
      s.put(rec('a', 0.5));
      s.put(rec('b', 0.7));
      s.put({ ...rec('a', 0.6), stray: 1 } as StoredResult);
      assert.deepEqual(s.get('a'), rec('a', 0.6));
      assert.deepEqual(
        s.scan().sort((x, y) => x.key.localeCompare(y.key)),
        [rec('a', 0.6), rec('b', 0.7)],
      );
    });

    test('malformed records are refused and change nothing', () => {
      const s = b.open();
      s.put(rec('ok', 1));
      for (const bad of [rec('', 1), rec('z', NaN), rec('z', Infinity), rec('z', 1, { cost: -1 }), { ...rec('z', 1), finished: 3 }, { ...rec('z', 1), details: [1] }]) {
        assert.throws(() => s.put(bad as StoredResult), /malformed record/);
      }
      assert.deepEqual(s.scan(), [rec('ok', 1)]);
    });

    test('a claimed key cannot be claimed again until released; other keys stay free', () => {
      const s = b.open();
      assert.ok(s.leaseMs > 0);
      const c = s.claim('k');
      assert.ok(c);
      assert.equal(c.key, 'k');
      c.renew();
      assert.equal(s.claim('k'), undefined);
      assert.equal(b.again(s).claim('k'), undefined, 'held for every handle');
      const other = s.claim('other');
      assert.ok(other);
      other.release();
      c.release();
      const again = b.again(s).claim('k');
      assert.ok(again, 'released: free again');
      again.release();
    });

    // (+ 0: a JSON store keeps −0 as 0, the same number)
    test('property: after any sequence of puts, get and scan give the last record of each key', () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((v) => v + 0)), { maxLength: 12 }), (puts) => {
          const s = b.open();
          const last = new Map<string, StoredResult>();
          for (const [k, v] of puts) {
            s.put(rec(k, v));
            last.set(k, rec(k, v));
          }
          for (const k of ['a', 'b', 'c', 'd']) assert.deepEqual(s.get(k), last.get(k));
          assert.deepEqual(
            s.scan().sort((x, y) => x.key.localeCompare(y.key)),
            [...last.values()].sort((x, y) => x.key.localeCompare(y.key)),
          );
        }),
        { numRuns: 25 },
      );
    });

    test('a JobObjective on the store computes each key once and answers repeats from the store', async () => {
      const s = b.open();
      const calls: string[] = [];
      const objective = (store: ResultStore) =>
        new JobObjective<{ arch: string }, { value: number; seconds: number }>({
          archs: ['x', 'yy', 'zzz'],
          jobOf: (arch) => ({ arch }),
          keyOf: (job) => `key-${job.arch}`,
          valueOf: (r) => r,
          runner: {
            capacity: 2,
            label: 'fake',
            async run(job) {
              calls.push(job.arch);
              await new Promise((r) => setTimeout(r, 5));
              return { value: job.arch.length, seconds: 2 * job.arch.length };
            },
            async close() {},
          },
          store,
        });
      const first = objective(s);
      // the same key asked twice at once runs once
      assert.deepEqual(await Promise.all([first.evaluate(1), first.evaluate(1), first.evaluate(2)]), [
        { value: 2, cost: 4 },
        { value: 2, cost: 4 },
        { value: 3, cost: 6 },
      ]);
      assert.deepEqual(calls.sort(), ['yy', 'zzz']);
      const second = objective(b.again(s));
      assert.deepEqual(await second.evaluate(2), { value: 3, cost: 6 }, 'from the store, at its original cost');
      assert.deepEqual([second.hits, second.misses], [1, 0]);
      assert.deepEqual(s.get('key-yy')?.value, 2);
      assert.equal(calls.length, 2);
    });
  });
}
