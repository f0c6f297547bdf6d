import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { scoreArchitecture, type ScoringSpec } from '../../src/proxies/spec.js';
import { readResults } from '../../src/proxies/results.js';
import { METRICS_CODE_VERSION } from '../../src/proxies/types.js';
import { nb201Space } from '../../src/spaces/nb201.js';

// Small networks keep each CLI run at a few seconds: C=4, N=1, 8 images.
const SMALL = ['--channels', '4', '--cells', '1', '--batch', '8', '--seed', '3'];
const ARCHS = [
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|',
  '(4, 3, 3, 3, 2, 3)', // tuple notation is accepted too
  '|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|',
];
const HEADER = 'arch,grad_norm,snip,grasp,fisher,synflow,jacob_cov,naswot,ln_synflow,seconds';

let dir = '';
let archFile = '';
let out = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'robot-nas-batch-'));
  archFile = join(dir, 'archs.txt');
  writeFileSync(archFile, `# three archs\n${ARCHS.join('\n')}\n\n`);
  out = join(dir, 'scores.csv');
});
after(() => rmSync(dir, { recursive: true, force: true }));

function proxies(args: string[]) {
  return runCli(['proxies', '--space', 'nb201', '--dataset', 'cifar10-1k', ...SMALL, ...args]);
}

/** Rows without the timing column, sorted: what must not change between runs. */
function stableRows(file: string): string[] {
  return readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').slice(0, -1).join(','))
    .sort();
}

test('batch mode writes one CSV row per architecture, on worker threads', () => {
  const r = proxies(['--archs', archFile, '--workers', '2', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /3 architectures \(0 resumed, 3 computed/);
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
  assert.equal(lines[0], HEADER);
  assert.equal(lines.length, 4);
  const { rows } = readResults(out, nb201Space);
  assert.deepEqual([...rows.keys()].sort(), ARCHS.map((a) => nb201Space.parse(a)).sort());
  for (const rec of rows.values()) {
    assert.ok(Number.isFinite(rec.grad_norm) && rec.grad_norm > 0);
    assert.ok(Math.abs(Math.log(rec.synflow) - rec.ln_synflow) < 1e-9);
    assert.ok(rec.seconds >= 0);
  }
  const meta = JSON.parse(readFileSync(`${out}.meta.json`, 'utf8')) as Record<string, unknown>;
  assert.match(String(meta.fingerprint), /^[0-9a-f]{16}$/, 'the images scored from');
  assert.deepEqual(meta, { space: 'nb201', dataset: 'cifar10-1k', split: null, channels: 4, cells: 1, batch: 8, classes: 10, seed: 3, fingerprint: meta.fingerprint, code: METRICS_CODE_VERSION });
});

test('a rerun resumes: nothing recomputed, the file is unchanged', () => {
  const before = readFileSync(out, 'utf8');
  const r = proxies(['--archs', archFile, '--workers', '2', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /3 architectures \(3 resumed, 0 computed/);
  assert.equal(readFileSync(out, 'utf8'), before);
});

test('a partially written last line is dropped and its architecture recomputed to the same values', () => {
  const rows = stableRows(out);
  const size = readFileSync(out).length;
  truncateSync(out, size - 25); // cut inside the last row, as a kill mid-write would
  const r = proxies(['--archs', archFile, '--workers', '1', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /dropped a partially written last line/);
  assert.match(r.stdout, /3 architectures \(2 resumed, 1 computed/);
  assert.deepEqual(stableRows(out), rows);
  assert.ok(readFileSync(out, 'utf8').endsWith('\n'));
});

test('resuming with other metrics or settings is a usage error', () => {
  let r = proxies(['--archs', archFile, '--metrics', 'grad_norm,snip', '--out', out]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /existing results have columns arch,grad_norm,.* \(different --metrics\)/);
  r = runCli(['proxies', '--space', 'nb201', '--dataset', 'cifar10-1k', '--channels', '4', '--cells', '1', '--batch', '16', '--seed', '3', '--archs', archFile, '--out', out]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /other settings: batch 8 \(now 16\)/);
});

test('rows of older metric code are not resumed: a results file without the code version is version 1', () => {
  const old = join(dir, 'old.csv');
  writeFileSync(old, readFileSync(out, 'utf8'));
  const meta = JSON.parse(readFileSync(`${out}.meta.json`, 'utf8')) as Record<string, unknown>;
  delete meta.code;
  writeFileSync(`${old}.meta.json`, JSON.stringify(meta));
  const r = proxies(['--archs', archFile, '--workers', '1', '--out', old]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`other settings: code 1 \\(now ${METRICS_CODE_VERSION}\\)`));
});

test('--archs FILE with a bad line: exit 2 naming the file and line', () => {
  const bad = join(dir, 'bad.txt');
  writeFileSync(bad, `${ARCHS[0]}\n\n|nor_conv_3x3~0|+|oops~0|none~1|+|none~0|none~1|none~2|\n`);
  const r = proxies(['--archs', bad, '--out', join(dir, 'bad.csv')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.txt:3: not a nb201 architecture/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
});

test('the job function is deterministic for a seed, and agrees with the worker-thread results', async () => {
  const job: ScoringSpec = {
    space: 'nb201',
    arch: ARCHS[1],
    config: { channels: 4, cells: 1, batch: 8, classes: 10, metrics: ['grad_norm', 'snip', 'grasp', 'fisher', 'synflow', 'jacob_cov', 'naswot'] },
    data: { dataset: 'cifar10-1k' },
    seed: 3,
    version: METRICS_CODE_VERSION,
  };
  const a = await scoreArchitecture(job);
  const b = await scoreArchitecture(JSON.parse(JSON.stringify(job)) as ScoringSpec);
  assert.equal(a.arch, nb201Space.parse(ARCHS[1]));
  assert.deepEqual(a.values, b.values);
  assert.equal(a.ln_synflow, b.ln_synflow);
  // JSON round trip of the result (what a remote runner would send back)
  assert.deepEqual(JSON.parse(JSON.stringify(a)), a);
  // a job made by other metric code (or by code before versions: no field) is refused, never answered with these numerics
  await assert.rejects(scoreArchitecture({ ...job, version: METRICS_CODE_VERSION - 1 }), /made for metric code version/);
  const { version: _v, ...unversioned } = job;
  await assert.rejects(scoreArchitecture(unversioned), /made for metric code version 1/);
  const other = await scoreArchitecture({ ...job, seed: 4 });
  assert.notEqual(other.values.grad_norm, a.values.grad_norm);
  // the CSV rows were computed on worker threads: same numbers, exactly
  const { rows } = readResults(out, nb201Space);
  const rec = rows.get(a.arch)!;
  for (const [m, v] of Object.entries(a.values)) assert.equal(rec[m], v, m);
});

test('a cell cut off by none scores without error: jacob_cov is nan, as in the reference', async () => {
  const r = await scoreArchitecture({
    space: 'nb201',
    arch: '|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|',
    config: { channels: 4, cells: 1, batch: 8, classes: 10, metrics: ['jacob_cov', 'grad_norm'] },
    data: { dataset: 'cifar10-1k' },
    seed: 3,
    version: METRICS_CODE_VERSION,
  });
  assert.deepEqual(r.values, { jacob_cov: 'nan', grad_norm: 0 });
});

test('bench --metrics-table joins the computed columns onto NAS-Bench-201 for a RoBoT run', () => {
  const r = runCli(['bench', '--benchmark', 'nb201', '--task', 'cifar10', '--metrics-table', out, '--metrics', 'grad_norm,snip', '--budget', '2', '--seeds', '1,2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = r.json<{ pool: number; metrics: string[]; runs: { arch: string }[] }>();
  assert.equal(j.pool, 3);
  assert.deepEqual(j.metrics, ['grad_norm', 'snip']);
  const archs = new Set(ARCHS.map((a) => nb201Space.parse(a)));
  for (const run of j.runs) assert.ok(archs.has(run.arch));
});
