import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

// Tiny but real: MNIST digits, C=4 NB201 networks, 96 training / 48 validation images, one epoch.
const TINY = [
  '--dataset', 'mnist', '--pool', '8', '--budget', '3', '--epochs', '1', '--channels', '4', '--cells', '1',
  '--train-limit', '96', '--valid-limit', '48', '--batch-size', '32', '--score-batch', '16', '--workers', '0', '--seed', '5',
];

interface ResultJson {
  method: string;
  best: { arch: string; index: number; validAccuracy: number; query: number };
  t0: number | null;
  weights: Record<string, number> | null;
  queries: number;
  totalCost: number;
  freshTrainingSeconds: number;
  cacheHits: number;
  pool: { size: number; scoredNow: number };
  data: { trainCount: number; validCount: number; fingerprint: string };
}

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'robot-nas-search-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('search: RoBoT with training queries writes result.json, queries.jsonl, metrics and the curve; a rerun resumes from the cache', () => {
  const out = join(dir, 'run');
  const r = runCli(['search', ...TINY, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /best architecture\s+\|/);
  assert.match(r.stdout, /validation accuracy\s+\d+\.\d\d %/);
  const res = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ResultJson;
  assert.equal(res.method, 'RoBoT');
  assert.equal(res.queries, 3);
  assert.equal(res.pool.size, 8);
  assert.equal(res.data.trainCount, 96);
  assert.equal(res.data.validCount, 48);
  assert.ok(res.t0 !== null && res.t0 >= 1 && res.t0 <= 3);
  assert.deepEqual(Object.keys(res.weights!).sort(), ['fisher', 'grad_norm', 'grasp', 'jacob_cov', 'snip', 'synflow']);
  assert.ok(res.totalCost > 0 && res.freshTrainingSeconds > 0);
  const lines = readFileSync(join(out, 'queries.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { arch: string; validAccuracy: number; bestSoFar: number; cached: boolean });
  assert.equal(lines.length, 3);
  assert.equal(new Set(lines.map((l) => l.arch)).size, 3, 'queries are distinct architectures');
  assert.ok(lines.every((l) => l.validAccuracy >= 0 && l.validAccuracy <= 100 && !l.cached));
  // The answer is the best queried architecture.
  assert.equal(res.best.validAccuracy, Math.max(...lines.map((l) => l.validAccuracy)));
  assert.equal(lines[2].bestSoFar, res.best.validAccuracy);
  assert.match(readFileSync(join(out, 'search-curve.svg'), 'utf8'), /^<svg/);
  assert.equal(readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n').length, 9);
  assert.ok(existsSync(join(dir, 'query-cache.jsonl')), 'cache next to the output folder');

  // Rerun: nothing is scored or trained again, the answer is the same, queries.jsonl is not duplicated.
  const again = runCli(['search', ...TINY, '--out', out, '--json']);
  assert.equal(again.code, 0, again.stderr);
  const res2 = JSON.parse(again.stdout) as ResultJson;
  assert.equal(res2.best.arch, res.best.arch);
  assert.equal(res2.freshTrainingSeconds, 0);
  assert.equal(res2.cacheHits, 3);
  assert.equal(res2.pool.scoredNow, 0);
  assert.equal(res2.totalCost, res.totalCost);
  assert.equal(readFileSync(join(out, 'queries.jsonl'), 'utf8').trim().split('\n').length, 3);

  // Random search on the same pool reuses every training RoBoT already did.
  const rs = runCli(['search', ...TINY, '--method', 'rs', '--out', join(dir, 'rs'), '--json']);
  assert.equal(rs.code, 0, rs.stderr);
  const rsRes = JSON.parse(rs.stdout) as ResultJson & { cacheHits: number };
  assert.equal(rsRes.method, 'RS');
  assert.equal(rsRes.queries, 3);

  // Other settings in the same folder are refused with the differences named.
  const clash = runCli(['search', ...TINY.map((a) => (a === '96' ? '128' : a)), '--out', out]);
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /settings\.json: this folder holds a search with other settings — trainLimit: 96 \(now 128\)/);
});

test('search: bad input is a one-line error (exit 2)', () => {
  const cases: [string[], RegExp][] = [
    [['search', '--dataset', 'folder', '--out', join(dir, 'x1')], /folder/],
    [['search', ...TINY, '--budget', '50', '--out', join(dir, 'x2')], /--budget 50 exceeds the pool of 8/],
    [['search', ...TINY, '--method', 'metric:naswot', '--out', join(dir, 'x3')], /metric:naswot: 'naswot' is not one of the scored metrics/],
    [['search', '--pool', 'many'], /--pool expects a positive integer or all/],
  ];
  for (const [args, re] of cases) {
    const r = runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('train: one architecture, train/validation/test accuracy reported', () => {
  const r = runCli([
    'train', '--arch', '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|',
    '--dataset', 'mnist', '--epochs', '1', '--channels', '4', '--train-limit', '64', '--valid-limit', '32', '--test-limit', '40', '--batch-size', '32', '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as { validAccuracy: number; testAccuracy: number; trainAccuracy: number; data: { testCount: number; validCount: number }; epochs: unknown[] };
  assert.equal(rep.data.testCount, 40);
  assert.equal(rep.data.validCount, 32);
  assert.equal(rep.epochs.length, 1);
  for (const v of [rep.validAccuracy, rep.testAccuracy, rep.trainAccuracy]) assert.ok(v >= 0 && v <= 100);
  const bad = runCli(['train', '--arch', '|conv~0|']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--arch: not a nb201 architecture/);
});
