/**
 * Size and speed limits on the search pool, the accuracy/size trade-off in result.json, and the answer trained
 * and saved by the search itself — on real MNIST digits with tiny networks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('robot-nas-limits-');
const TINY = ['--pool', '12', '--budget', '4', '--epochs', '1', '--channels', '4', '--train-limit', '128', '--valid-limit', '64', '--score-batch', '16', '--parallel', '0', '--seed', '3'];

interface Result {
  best: { arch: string; params: number; flops: number; validAccuracy: number };
  bestLatencyMs: number;
  limits: { maxParams?: number; maxLatency?: number; before: number; removed: number } | null;
  pareto: { arch: string; validAccuracy: number; params: number }[];
  trained?: { arch: string; validAccuracy: number; model: string | null };
  suggestedSize: { channels: number; cells: number; params: number; flops: number; latencyMs?: number } | null;
}

test('search --max-params removes the larger candidates before scoring; the answer, its size and the Pareto front are reported; --train-best --save keeps a model', () => {
  const d = tmp();
  const free = runCli(['search', ...TINY, '--out', join(d, 'free'), '--json']);
  assert.equal(free.code, 0, free.stderr);
  const all = JSON.parse(free.stdout) as Result;
  assert.equal(all.limits, null);
  assert.ok(all.best.params > 0 && all.best.flops > 0 && all.bestLatencyMs > 0);
  const lines = readFileSync(join(d, 'free', 'queries.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { arch: string });
  assert.equal(lines.length, 4);
  assert.ok(all.pareto.length >= 1 && all.pareto.every((p) => lines.some((l) => l.arch === p.arch)), 'the front is made of queried architectures');
  for (let i = 1; i < all.pareto.length; i++) assert.ok(all.pareto[i].params > all.pareto[i - 1].params && all.pareto[i].validAccuracy > all.pareto[i - 1].validAccuracy);

  const limit = 12000;
  const model = join(d, 'model');
  const r = runCli(['search', ...TINY, '--max-params', '12k', '--max-latency', '1000', '--out', join(d, 'small'), '--train-best', '1', '--save', model, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as Result;
  assert.ok(res.limits && res.limits.maxParams === limit && res.limits.before === 12);
  assert.ok(res.limits.removed > 0 && res.limits.removed < 12, `removed ${res.limits.removed}`);
  assert.match(r.stderr, new RegExp(`limits: parameters ≤ ${limit}, batch-1 latency ≤ 1000 ms — ${12 - res.limits.removed} of 12 candidates left`));
  assert.ok(res.best.params <= limit);
  for (const p of res.pareto) assert.ok(p.params <= limit);
  const metrics = readFileSync(join(d, 'small', 'metrics.csv'), 'utf8').trim().split('\n');
  assert.equal(metrics.length - 1, 12 - res.limits.removed, 'only candidates within the limit are scored');
  // the answer, trained and saved
  assert.ok(res.trained && res.trained.arch === res.best.arch && res.trained.model === model);
  const card = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8')) as { arch: string; accuracies: { validation: number } };
  assert.equal(card.arch, res.best.arch);
  assert.equal(card.accuracies.validation, res.trained.validAccuracy);
  const settings = JSON.parse(readFileSync(join(d, 'small', 'settings.json'), 'utf8')) as { limits?: unknown };
  assert.deepEqual(settings.limits, { maxParams: limit, maxLatency: 1000 });
  // search small, train large: the largest size of the answer's cell within the limits, at least the searched one
  assert.equal(all.suggestedSize, null, 'no limit, no target to fit');
  const z = res.suggestedSize!;
  assert.ok(z.params <= limit && z.params >= res.best.params && z.channels >= 4 && z.cells >= 1, JSON.stringify(z));
  assert.ok(z.latencyMs !== undefined && z.latencyMs <= 1000);
  const wide = runCli(['train', '--from', join(d, 'small'), '--channels', String(z.channels), '--cells', String(z.cells), '--epochs', '1', '--train-limit', '64', '--valid-limit', '32', '--test-limit', '32', '--json']);
  assert.equal(wide.code, 0, wide.stderr);
  assert.equal((JSON.parse(wide.stdout) as { params: number }).params, z.params, 'the suggested size trains with the parameters it was chosen by');
});

test('a limit no candidate meets is exit 2 naming the flag and the closest architecture, before any scoring', () => {
  const d = tmp();
  const r = runCli(['search', ...TINY, '--max-params', '100', '--out', join(d, 'run')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--max-params: no candidate of the pool of 12 fits the limits; the closest is \|.+\| \([\d,]+ parameters/);
  assert.ok(!existsSync(join(d, 'run', 'settings.json')));
  const lat = runCli(['search', ...TINY, '--max-latency', '0.0001', '--out', join(d, 'run')]);
  assert.equal(lat.code, 2, lat.stderr);
  assert.match(lat.stderr, /--max-latency: no candidate .* ms\)/);
  const save = runCli(['search', ...TINY, '--save', join(d, 'm'), '--out', join(d, 'run')]);
  assert.equal(save.code, 2);
  assert.match(save.stderr, /--save: needs --train-best/);
  const bad = runCli(['search', ...TINY, '--max-flops', 'lots', '--out', join(d, 'run')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--max-flops/);
});
