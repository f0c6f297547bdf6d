import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import pngjs from 'pngjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { REPO } from '../helpers/shared.js';

// Tiny but real: MNIST digits, C=4 NB201 networks, 96 training / 48 validation images, one epoch.
const TINY = [
  '--dataset', 'mnist', '--pool', '8', '--budget', '3', '--epochs', '1', '--channels', '4', '--cells', '1',
  '--train-limit', '96', '--valid-limit', '48', '--batch-size', '32', '--score-batch', '16', '--parallel', '0', '--seed', '5',
];

interface ResultJson {
  method: string;
  best: { arch: string; index: number; validAccuracy: number; query: number };
  t0: number | null;
  weights: Record<string, number> | null;
  explanation: {
    leans: { metric: string; weight: number; share: number }[];
    singles: { metric: string; index: number; arch: string; query: number; value: number; gap: number }[];
    phases: { bo: number; exploitation: number; exploitationStartedAt: number | null } | null;
  };
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

test('search: RoBoT+ (the default) with training queries writes result.json, queries.jsonl, metrics and the curve; a rerun resumes from the cache', () => {
  const out = join(dir, 'run');
  const r = runCli(['search', ...TINY, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /best architecture\s+\|/);
  assert.match(r.stdout, /validation accuracy\s+\d+\.\d\d %/);
  const res = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ResultJson;
  assert.equal(res.method, 'RoBoT+');
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

  // The explanation: shares of the learned weights, each metric's pick among the queried, the phases.
  const e = res.explanation;
  assert.equal(e.leans.length, 6);
  assert.ok(Math.abs(e.leans.reduce((a, l) => a + l.share, 0) - 1) < 1e-9);
  for (let k = 1; k < e.leans.length; k++) assert.ok(e.leans[k - 1].share >= e.leans[k].share, 'largest share first');
  for (const l of e.leans) assert.equal(l.weight, res.weights![l.metric]);
  assert.deepEqual(e.singles.map((p) => p.metric), ['grad_norm', 'snip', 'grasp', 'fisher', 'synflow', 'jacob_cov']);
  const metricsCsv = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
  const header = metricsCsv[0].split(',');
  const valueOf = (arch: string, m: string): number => Number(metricsCsv.find((row) => row.includes(arch))!.split(',')[header.indexOf(m)]);
  for (const p of e.singles) {
    const line = lines[p.query - 1];
    assert.equal(line.arch, p.arch);
    assert.equal(p.value, line.validAccuracy);
    assert.equal(p.gap, p.value - res.best.validAccuracy);
    assert.ok(p.gap <= 0, 'no single pick beats the answer among the queried');
    // the metric's highest value among the queried architectures
    for (const l of lines) assert.ok(valueOf(l.arch, p.metric) <= valueOf(p.arch, p.metric), `${p.metric}: ${l.arch}`);
  }
  assert.deepEqual(e.phases, { bo: res.t0, exploitation: 3 - res.t0!, exploitationStartedAt: res.t0! < 3 ? res.t0! + 1 : null });
  assert.match(r.stdout, /^leans on\s+\S+ (high|low) \d+ %/m);
  assert.match(r.stdout, /^single metrics\s+among the 3 queried, each metric's top pick: /m);
  assert.match(r.stdout, new RegExp(`^phases\\s+queries 1–${res.t0} Bayesian optimisation of the weights \\(T0 = ${res.t0}\\)`, 'm'));
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
  assert.match(clash.stderr, /holds a search with other settings — trainLimit 96 → 128\. Use another --out/);
});

test('search: bad input is a one-line error (exit 2)', () => {
  const cases: [string[], RegExp][] = [
    [['search', '--dataset', 'folder', '--out', join(dir, 'x1')], /folder/],
    [['search', ...TINY, '--budget', '50', '--out', join(dir, 'x2')], /--budget: 50 distinct queries requested, but the requested pool has only 8 architectures/],
    [['search', ...TINY, '--method', 'metric:naswot', '--out', join(dir, 'x3')], /metric:naswot: 'naswot' is not one of the scored metrics/],
    [['search', '--pool', 'many'], /--pool <n\|all>' argument 'many' is invalid/],
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

test('search: killed after its first training, a rerun trains only what is left', async () => {
  const out = join(dir, 'killed');
  const args = [...TINY.map((a) => (a === '5' ? '6' : a)), '--out', out, '--cache', join(dir, 'killed-cache.jsonl')];
  const child = spawn(process.execPath, [join(REPO, 'bin', 'robot-nas.js'), 'search', ...args], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  await new Promise<void>((resolveDone) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Kill right after the first query is logged (its cache line is written before the log line).
      if (/^query 1\/3 +val/m.test(stderr) && child.exitCode === null) child.kill('SIGKILL');
    });
    child.on('exit', () => resolveDone());
  });
  assert.match(stderr, /^query 1\/3 +val/m);
  assert.doesNotMatch(stderr, /^query 3\/3 +val/m, 'the search was killed before it finished');
  assert.equal(existsSync(join(out, 'result.json')), false, 'no result.json from an interrupted run');
  const r = runCli(['search', ...args, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as ResultJson;
  assert.equal(res.queries, 3);
  assert.ok(res.cacheHits >= 1, `cache hits ${res.cacheHits}`);
  assert.match(r.stderr, /query 1\/3 .* cached/);
  const lines = readFileSync(join(out, 'queries.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 3, 'each query logged once across both runs');
});

test('search and train on an image folder (the user-data path): train/ and test/ subfolders of PNGs', () => {
  const data = join(dir, 'images');
  // Two classes: a bright left half or a bright right half, with per-image noise; 16×16 RGB.
  let k = 0;
  for (const split of ['train', 'test']) {
    for (const cls of ['left', 'right']) {
      mkdirSync(join(data, split, cls), { recursive: true });
      for (let i = 0; i < (split === 'train' ? 14 : 6); i++) {
        const png = new pngjs.PNG({ width: 16, height: 16 });
        for (let p = 0; p < 256; p++) {
          const lit = cls === 'left' ? p % 16 < 8 : p % 16 >= 8;
          const v = (lit ? 200 : 40) + ((k++ * 37) % 30);
          png.data.set([v, v, v, 255], p * 4);
        }
        writeFileSync(join(data, split, cls, `${i}.png`), pngjs.PNG.sync.write(png));
      }
    }
  }
  const out = join(dir, 'folder-run');
  const r = runCli([
    'search', '--dataset', 'folder', '--data', data, '--pool', '4', '--budget', '2', '--epochs', '1', '--channels', '4',
    '--batch-size', '8', '--score-batch', '8', '--parallel', '0', '--out', out, '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as ResultJson & { data: { classes: number; testCount: number | null } };
  assert.equal(res.data.trainCount + res.data.validCount, 28);
  assert.equal(res.data.classes, 2);
  assert.equal(res.queries, 2);
  const t = runCli(['train', '--arch', res.best.arch, '--dataset', 'folder', '--data', data, '--channels', '4', '--epochs', '1', '--batch-size', '8', '--json']);
  assert.equal(t.code, 0, t.stderr);
  const rep = JSON.parse(t.stdout) as { data: { testCount: number }; testAccuracy: number };
  assert.equal(rep.data.testCount, 12);
  assert.ok(rep.testAccuracy >= 0 && rep.testAccuracy <= 100);
});

test('search on the DARTS space: sampled genotypes, trained, answer printed as a genotype', () => {
  const r = runCli([
    'search', '--space', 'darts', '--dataset', 'mnist', '--pool', '4', '--budget', '2', '--channels', '4', '--cells', '2',
    '--train-limit', '64', '--valid-limit', '32', '--score-batch', '16', '--parallel', '0', '--out', join(dir, 'darts'), '--no-cache', '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as ResultJson;
  assert.match(res.best.arch, /^Genotype\(normal=\[\('[a-z_0-9]+', \d\)/);
  assert.equal(res.queries, 2);
  assert.ok(res.best.validAccuracy >= 0 && res.best.validAccuracy <= 100);
});

test('search on CIFAR-10 in the binary release format (written here: 5 train batches + test batch)', () => {
  const data = join(dir, 'cifar-10-batches-bin');
  mkdirSync(data, { recursive: true });
  // Real images: the shared 1k subset re-packed as 3073-byte records (label, 3072 pixels).
  const shared = join(REPO, '..', 'shared', 'data', 'cifar10');
  const px = readFileSync(join(shared, 'images_1000x32x32x3_uint8.bin'));
  const lb = readFileSync(join(shared, 'labels_1000_uint8.bin'));
  const record = (i: number): Buffer => {
    const out = Buffer.alloc(3073);
    out[0] = lb[i];
    // shared file: HWC; binary release: CHW planes
    for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) out[1 + c * 1024 + p] = px[p * 3 + c + i * 3072];
    return out;
  };
  for (let f = 0; f < 5; f++) writeFileSync(join(data, `data_batch_${f + 1}.bin`), Buffer.concat(Array.from({ length: 30 }, (_, r) => record((f * 30 + r) * 6))));  // every 6th image: all ten classes (the file is in label order)
  writeFileSync(join(data, 'test_batch.bin'), Buffer.concat(Array.from({ length: 40 }, (_, r) => record(r * 25 + 3))));
  const r = runCli([
    'search', '--dataset', 'cifar10', '--data', dir, '--pool', '4', '--budget', '2', '--epochs', '1', '--channels', '4',
    '--batch-size', '25', '--score-batch', '16', '--parallel', '0', '--out', join(dir, 'cifar-run'), '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as ResultJson;
  assert.equal(res.data.trainCount + res.data.validCount, 150);
  assert.equal(res.queries, 2);
});

test('train --from a search folder trains its answer with its settings; flags given win; bad --from is exit 2', () => {
  const out = join(dir, 'run');
  const res = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ResultJson & { best: { arch: string; params: number } };
  const small = ['--epochs', '1', '--train-limit', '64', '--valid-limit', '32', '--test-limit', '32', '--json'];
  const r = runCli(['train', '--from', out, ...small]);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as { arch: string; params: number };
  assert.equal(rep.arch, res.best.arch);
  assert.equal(rep.params, res.best.params, 'same width and depth as the search (its --channels 4 --cells 1)');
  const wide = JSON.parse(runCli(['train', '--from', join(out, 'result.json'), '--channels', '8', ...small]).stdout) as { arch: string; params: number };
  assert.equal(wide.arch, res.best.arch);
  assert.ok(wide.params > rep.params, 'trained wider than the search proxy');
  const bad = runCli(['train', '--from', join(dir, 'no-such-search')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--from: expected a search output folder/);
  const both = runCli(['train', '--from', out, '--arch', res.best.arch]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /not both/);
});
