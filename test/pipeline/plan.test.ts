/**
 * Steps 1 and 2 of a search (src/pipeline/plan.ts) and the folder's bookkeeping (files.ts): every impossible request
 * is refused before any data is read, naming its setting; what a folder's search depends on is recorded and compared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loggedKeys, settingsDiff, shownPath } from '../../src/pipeline/files.js';
import { planSearch, queriesAtOnce, searchSettings, trainSettings } from '../../src/pipeline/plan.js';
import type { SearchOptions } from '../../src/pipeline/types.js';
import { randomSearch } from '../../src/search/random.js';
import { DARTS_TRAINING } from '../../src/train/trainer.js';
import { SettingError } from '../../src/util/errors.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('robot-nas-plan-');

function options(o: Partial<SearchOptions> = {}): SearchOptions {
  return {
    space: 'nb201',
    dataset: 'mnist',
    pool: 20,
    budget: 5,
    method: 'robot',
    metrics: ['grad_norm', 'snip'],
    channels: 4,
    cells: 1,
    epochs: 1,
    batchSize: 16,
    lr: 0.1,
    scoreBatch: 8,
    validFraction: 0.2,
    seed: 1,
    out: join(tmp(), 'out'),
    cache: null,
    parallel: 0,
    ...o,
  };
}

const refused = (o: Partial<SearchOptions>, setting: string, re: RegExp): void =>
  assert.throws(() => planSearch(options(o)), (e: Error) => e instanceof SettingError && e.setting === setting && re.test(e.message), `${setting}: ${JSON.stringify(o)}`);

test('a plan holds the checked options, the method and the space', () => {
  const p = planSearch(options());
  assert.equal(p.method.name, 'RoBoT');
  assert.equal(p.space.id, 'nb201');
  assert.equal(p.cache, null);
  assert.ok(p.out.endsWith('out'));
  assert.equal(planSearch(options({ method: 'metric:snip' })).method.name, 'snip (top-T)');
  assert.equal(planSearch(options({ method: randomSearch })).method, randomSearch, 'a SearchMethod object is used as it is');
});

test('impossible searches are refused before any data is read, naming their setting', () => {
  refused({ space: 'nb101' as 'nb201' }, 'space', /expected nb201 or darts/);
  refused({ metrics: [] }, 'metrics', /at least one metric/);
  refused({ method: 'nope' }, 'method', /expected robot-plus, robot, rs, rea, reinforce or metric:<name>, got nope/);
  refused({ method: 'tf-best' }, 'method', /got tf-best/);
  refused({ method: 'metric:fisher' }, 'method', /'fisher' is not one of the scored metrics/);
  refused({ method: { name: 'half' } as never }, 'method', /a SearchMethod object/);
  refused({ pool: 0 }, 'pool', /positive integer or all/);
  refused({ pool: 20000 }, 'pool', /only 15625/);
  refused({ space: 'darts', pool: 'all' }, 'pool', /cannot be enumerated/);
  refused({ budget: 21 }, 'budget', /21 distinct queries requested, but the requested pool has only 20/);
  refused({ channels: 0 }, 'channels', /positive integer/);
  refused({ scoreBatch: 1.5 }, 'scoreBatch', /positive integer/);
  refused({ parallel: -1 }, 'parallel', /non-negative integer/);
  refused({ schedule: 'later' as 'sync' }, 'schedule', /sync or async/);
  refused({ limits: { maxParams: -5 } }, 'maxParams', /positive number/);
  refused({ lr: 0 }, 'lr', /./);
  const file = join(tmp(), 'a-file');
  writeFileSync(file, 'x');
  refused({ out: file }, 'out', /./);
});

test('settings: what a folder depends on (limits only when given, a method object by its name); the training recipe', () => {
  const o = options();
  const info = { mean: [0.5], std: [0.25], shape: [1, 28, 28], fingerprint: '0123456789abcdef' } as never;
  const train = trainSettings(o, info);
  assert.deepEqual({ ...train, augment: null }, { ...DARTS_TRAINING, lr: 0.1, epochs: 1, batchSize: 16, augment: null });
  const s = searchSettings(o, train, info);
  assert.equal(s.fingerprint, '0123456789abcdef', 'the images the queries train on are part of the settings');
  assert.equal(s.method, 'robot');
  assert.equal(s.parallel, 1, 'parallel 0 runs one query at a time');
  assert.equal(s.schedule, 'sync');
  assert.ok(!('limits' in s));
  assert.deepEqual(searchSettings(options({ limits: { maxFlops: 10 } }), train, info).limits, { maxFlops: 10 });
  assert.equal(searchSettings(options({ method: randomSearch }), train, info).method, 'RS');
  assert.equal(queriesAtOnce(options({ parallel: 3 })), 3);
});

test('settingsDiff names what changed; loggedKeys repairs a torn last line of the query log', () => {
  const d = tmp();
  const file = join(d, 'settings.json');
  assert.deepEqual(settingsDiff(file, { a: 1 }), [], 'no folder yet: nothing differs');
  writeFileSync(file, JSON.stringify({ a: 1, b: [1, 2] }));
  assert.deepEqual(settingsDiff(file, { a: 1, b: [1, 2] }), []);
  assert.deepEqual(settingsDiff(file, { a: 2, b: [1, 2], c: true }), ['a 1 → 2', 'c none → true']);
  // other images under the same data selection are said as such, not through what derives from them
  writeFileSync(file, JSON.stringify({ dataset: 'mnist', seed: 0, fingerprint: 'aaaa', training: { augment: { mean: [0.1] } } }));
  assert.deepEqual(settingsDiff(file, { dataset: 'mnist', seed: 0, fingerprint: 'bbbb', training: { augment: { mean: [0.2] } } }), ['the data changed (fingerprint aaaa → bbbb)']);
  writeFileSync(file, '{oops');
  assert.throws(() => settingsDiff(file, {}), /unreadable settings/);
  const log = join(d, 'queries.jsonl');
  writeFileSync(log, '{"key":"k1","n":1}\n{"key":"k2","n":2}\n{"key":"k1","n":3}\n{"key":"k3"');
  assert.deepEqual([...loggedKeys(log)], ['k1', 'k2']);
  assert.equal(readFileSync(log, 'utf8'), '{"key":"k1","n":1}\n{"key":"k2","n":2}\n', 'the repeat and the torn line are cut off');
  assert.equal(shownPath(join(process.cwd(), 'x', 'y')), join('x', 'y'));
  assert.equal(shownPath('/elsewhere/z'), '/elsewhere/z');
});
