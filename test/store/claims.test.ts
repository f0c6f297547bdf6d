/**
 * The JSONL store shared by several processes: appends from many writers never interleave, each reader sees
 * the others' records, a key claimed by a live holder cannot be claimed again, and a claim left by a dead
 * process or not renewed within its lease is taken over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { JobObjective } from '../../src/objective/jobs.js';
import { JsonlStore } from '../../src/store/jsonl.js';
import { REPO } from '../helpers/shared.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('robot-nas-store-');
const rec = (key: string, value: number) => ({ key, arch: `arch-${key}`, value, cost: 1, finished: '2026-01-01T00:00:00.000Z' });

test('a store sees what another store on the same file put after it opened', () => {
  const file = join(tmp(), 'q.jsonl');
  const a = JsonlStore.open(file);
  const b = JsonlStore.open(file);
  a.put(rec('k1', 0.5));
  assert.deepEqual(b.get('k1'), rec('k1', 0.5));
  b.put(rec('k2', 0.25));
  assert.equal(a.scan().length, 2);
});

test('claims: one live holder at a time; released claims can be taken', () => {
  const file = join(tmp(), 'q.jsonl');
  const a = JsonlStore.open(file);
  const b = JsonlStore.open(file);
  const c1 = a.claim('key');
  assert.ok(c1);
  assert.equal(b.claim('key'), undefined, 'held by a live process (this one)');
  assert.ok(b.claim('other'), 'other keys are free');
  c1.release();
  const c2 = b.claim('key');
  assert.ok(c2);
  c2.release();
});

test('a claim of a dead process is taken over at once; an unrenewed one after its lease', async () => {
  const file = join(tmp(), 'q.jsonl');
  const store = JsonlStore.open(file, 200);
  const first = store.claim('k');
  assert.ok(first);
  // Rewrite the claim as if a process that has exited held it.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(join(`${file}.claims`, 'k.claim'), JSON.stringify({ host: hostname(), pid: Number(dead.stdout), token: 'dead0000' }));
  const taken = store.claim('k');
  assert.ok(taken, 'a dead holder blocks nobody');
  // A live holder (this process) that stops renewing loses the claim once the lease (200 ms) has passed.
  assert.equal(store.claim('k'), undefined);
  await new Promise((r) => setTimeout(r, 350));
  const late = store.claim('k');
  assert.ok(late, 'an expired lease is taken over');
  late.release();
});

test('four processes appending at once: every record whole, none lost', async () => {
  const file = join(tmp(), 'q.jsonl');
  JsonlStore.open(file).put(rec('seed', 0));
  const script = `
    import { JsonlStore } from ${JSON.stringify(join(REPO, 'src', 'store', 'jsonl.ts'))};
    const s = JsonlStore.open(process.argv[1]);
    for (let i = 0; i < 40; i++) s.put({ key: process.argv[2] + '-' + i, arch: 'x'.repeat(2000), value: i, cost: 1, finished: 'now' });
  `;
  await Promise.all(
    ['a', 'b', 'c', 'd'].map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, file, w], { cwd: REPO, stdio: 'inherit' });
          p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer ${w} exited ${code}`))));
        }),
    ),
  );
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, 161);
  for (const l of lines) JSON.parse(l);
  assert.equal(new Set(lines.map((l) => (JSON.parse(l) as { key: string }).key)).size, 161);
});

test('two objectives on one store file compute a key once: the second waits for the first', async () => {
  const file = join(tmp(), 'q.jsonl');
  let runs = 0;
  const make = () =>
    new JobObjective<{ arch: string }, number>({
      archs: ['a'],
      jobOf: (arch) => ({ arch }),
      keyOf: () => 'shared-key',
      valueOf: (v) => ({ value: v, seconds: 2 }),
      runner: {
        capacity: 1,
        label: 'slow',
        run: async () => {
          runs++;
          await new Promise((r) => setTimeout(r, 300));
          return 0.75;
        },
        close: async () => {},
      },
      store: JsonlStore.open(file),
      pollMs: 20,
    });
  const [x, y] = await Promise.all([make().evaluate(0), make().evaluate(0)]);
  assert.deepEqual(x, { value: 0.75, cost: 2 });
  assert.deepEqual(y, x);
  assert.equal(runs, 1);
  assert.equal(readFileSync(file, 'utf8').trimEnd().split('\n').length, 1, 'stored once');
});
