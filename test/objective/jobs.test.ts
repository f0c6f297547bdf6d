import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { JobObjective, type QueryEvent, type QueryValue } from '../../src/objective/jobs.js';
import { QueryLedger } from '../../src/objective/ledger.js';
import type { Runner } from '../../src/runner/types.js';
import { JsonlStore } from '../../src/store/jsonl.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { ResultStore } from '../../src/store/types.js';
import { queryKey } from '../../src/util/key.js';
import { tempDir } from '../data/util.js';

const ARCHS = ['conv3x3', 'skip', 'conv1x1', 'pool'];
const keyOfArch = (arch: string) => queryKey({ arch, dataset: 'cifar10', epochs: 2 });

/** A fake training runner: value from the arch name, cost from its place in ARCHS; counts calls. */
function fakeRunner(calls: string[], run?: (arch: string) => QueryValue): Runner<{ arch: string }, QueryValue> {
  return {
    capacity: 1,
    label: 'fake',
    async run(job) {
      calls.push(job.arch);
      return run ? run(job.arch) : { value: job.arch.length / 10, seconds: 100 + ARCHS.indexOf(job.arch), details: { epochs: 2 } };
    },
    async close() {},
  };
}

interface Opts {
  archs?: readonly string[];
  store: ResultStore;
  calls?: string[];
  events?: QueryEvent[];
  keyOf?: (arch: string) => string;
  run?: (arch: string) => QueryValue;
}
function objective(o: Opts): JobObjective<{ arch: string }, QueryValue> {
  return new JobObjective<{ arch: string }, QueryValue>({
    archs: o.archs ?? ARCHS,
    jobOf: (arch) => ({ arch }),
    keyOf: (job) => (o.keyOf ?? keyOfArch)(job.arch),
    valueOf: (r) => r,
    runner: fakeRunner(o.calls ?? [], o.run),
    store: o.store,
    ...(o.events ? { onQuery: (e: QueryEvent) => o.events!.push(e) } : {}),
  });
}
const keyOf = keyOfArch;

test('a new JobObjective on the same store file answers from the cache with the original costs', async () => {
  const file = join(tempDir('cached'), 'queries.jsonl');
  const calls: string[] = [];
  const events: QueryEvent[] = [];
  const first = objective({ store: JsonlStore.open(file), calls, events });
  assert.deepEqual(await first.evaluate(0), { value: 0.7, cost: 100 });
  assert.deepEqual(await first.evaluate(2), { value: 0.7, cost: 102 });
  assert.deepEqual(calls, ['conv3x3', 'conv1x1']);
  assert.deepEqual([first.hits, first.misses, first.freshSeconds], [0, 2, 202]);
  assert.deepEqual(events[0], { index: 0, arch: 'conv3x3', key: keyOf('conv3x3'), value: 0.7, cost: 100, cached: false, details: { epochs: 2 } });

  // "resumed run": a fresh process with the same cache file, pool in another order
  const calls2: string[] = [];
  const events2: QueryEvent[] = [];
  const pool2 = ['conv1x1', 'pool', 'conv3x3'];
  const second = objective({ archs: pool2, store: JsonlStore.open(file), calls: calls2, events: events2 });
  assert.deepEqual(await second.evaluate(2), { value: 0.7, cost: 100 });
  assert.deepEqual(await second.evaluate(0), { value: 0.7, cost: 102 });
  assert.deepEqual(calls2, []);
  assert.deepEqual(events2[0], { index: 2, arch: 'conv3x3', key: keyOf('conv3x3'), value: 0.7, cost: 100, cached: true, details: { epochs: 2 } });
  assert.deepEqual(await second.evaluate(1), { value: 0.4, cost: 103 });
  assert.deepEqual(calls2, ['pool']);
  assert.deepEqual([second.hits, second.misses, second.freshSeconds], [2, 1, 103]);
  assert.deepEqual(events2.map((e) => e.cached), [true, true, false]);
});

test('totals through a QueryLedger are the same on a resumed run', async () => {
  const file = join(tempDir('cached-ledger'), 'q.jsonl');
  const order = [3, 1, 0, 3, 2];
  const spend = async (): Promise<number> => {
    const ledger = new QueryLedger(objective({ store: JsonlStore.open(file) }));
    for (const i of order) await ledger.query(i);
    return ledger.history.reduce((s, r) => s + r.cost, 0);
  };
  const a = await spend();
  const b = await spend();
  assert.equal(a, 103 + 101 + 100 + 102);
  assert.equal(b, a);
});

test('non-finite values are rejected naming the arch, and not cached', async () => {
  const cache = new MemoryStore();
  let value = NaN;
  const obj = objective({ store: cache, run: () => ({ value, seconds: 5 }) });
  await assert.rejects(obj.evaluate(1), /query of skip returned a non-finite value/);
  assert.equal(cache.scan().length, 0);
  assert.equal(obj.freshSeconds, 0);
  value = 0.3;
  assert.deepEqual(await obj.evaluate(1), { value: 0.3, cost: 5 });
  assert.equal(cache.get(keyOf('skip'))!.arch, 'skip');
  await assert.rejects(obj.evaluate(4), RangeError);
});

test('a failing run propagates and a retry runs again', async () => {
  let n = 0;
  const obj = objective({
    store: new MemoryStore(),
    run: () => {
      if (n++ === 0) throw new Error('out of memory');
      return { value: 0.5, seconds: 1 };
    },
  });
  await assert.rejects(obj.evaluate(0), /out of memory/);
  assert.deepEqual(await obj.evaluate(0), { value: 0.5, cost: 1 });
  assert.equal(n, 2);
});

test('concurrent evaluations of the same key train once', async () => {
  const calls: string[] = [];
  const events: QueryEvent[] = [];
  // two pool entries that share a key (e.g. isomorphic cells mapped to one canonical form)
  const obj = objective({ archs: ['a', 'b'], keyOf: () => 'same', store: new MemoryStore(), calls, events });
  const [x, y] = await Promise.all([obj.evaluate(0), obj.evaluate(1)]);
  assert.deepEqual(x, y);
  assert.deepEqual(calls, ['a']);
  assert.deepEqual([obj.hits, obj.misses], [1, 1]);
  assert.deepEqual(events.map((e) => e.cached).sort(), [false, true]);
});
