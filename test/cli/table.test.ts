import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { SHARED_DATA } from '../helpers/shared.js';

test('table nb201 prints every method with ours next to the paper and writes SVG plots', () => {
  const out = mkdtempSync(join(tmpdir(), 'robot-nas-table-'));
  const r = runCli(['table', 'nb201', '--seeds', '10-11', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  for (const label of ['REA', 'RS', 'REINFORCE', 'Training-free avg.', 'Training-free best', 'RoBoT', 'RoBoT\\+ \\*', 'Optimal']) {
    assert.match(r.stdout, new RegExp(`\\| ${label.replace('.', '\\.')}`), label);
  }
  assert.match(r.stdout, /94\.36±0\.00/); // the paper's column
  const md = readFileSync(join(out, 'nb201-table.md'), 'utf8');
  assert.match(md, /pool 9445 architectures/);
  for (const task of ['cifar10', 'cifar100', 'imagenet16-120']) {
    const svg = readFileSync(join(out, `nb201-${task}.svg`), 'utf8');
    assert.match(svg, /^<svg/);
    assert.match(svg, /T0 = /, 'RoBoT T0 marked');
    assert.match(svg, /number of queried architectures/);
  }
  const j = r.json<{ cells: { task: string; row: string; final: { mean: number }; t0: { mean: number } | null }[] }>();
  assert.equal(j.cells.length, 3 * 9);
  const robot = j.cells.find((c) => c.task === 'cifar10' && c.row === 'RoBoT')!;
  assert.ok(robot.t0 !== null && robot.final.mean > 93);
  assert.ok(existsSync(join(out, 'nb201-results.json')));
});

test('table tnb101-macro reports validation ranks, the same on worker threads as in one thread', () => {
  const out = mkdtempSync(join(tmpdir(), 'robot-nas-table-'));
  const r = runCli(['table', 'tnb101-macro', '--seeds', '10', '--budget', '30', '--workers', '2', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = r.json<{ cells: { task: string; row: string; rank: { mean: number } }[] }>();
  assert.equal(j.cells.length, 7 * 9);
  for (const c of j.cells) assert.ok(c.rank.mean >= 1, `${c.task} ${c.row}`);
  assert.ok(existsSync(join(out, 'tnb101-macro-normal.svg')));
  const one = mkdtempSync(join(tmpdir(), 'robot-nas-table-'));
  const r1 = runCli(['table', 'tnb101-macro', '--seeds', '10', '--budget', '30', '--workers', '1', '--out', one]);
  assert.equal(r1.code, 0, r1.stderr);
  const cells = (dir: string) => (JSON.parse(readFileSync(join(dir, 'tnb101-macro-results.json'), 'utf8')) as { cells: unknown[] }).cells;
  assert.deepEqual(cells(out), cells(one));
  assert.equal(readFileSync(join(out, 'tnb101-macro-table.md'), 'utf8'), readFileSync(join(one, 'tnb101-macro-table.md'), 'utf8'));
});

test('--table loads official-format files directly (Suite-Zero json, RoBoT pickles via data folder)', () => {
  const json = join(SHARED_DATA, 'tnb101', 'official', 'zc_transbench101_micro_subset.json');
  const r = runCli(['bench', '--table', json, '--task', 'jigsaw', '--method', 'robot', '--budget', '20', '--seeds', '1-2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = r.json<{ benchmark: string; task: string; metrics: string[]; pool: number }>();
  assert.equal(j.benchmark, 'tnb101-micro');
  assert.equal(j.task, 'jigsaw');
  assert.ok(j.metrics.includes('grad_norm'));
  assert.ok(j.pool > 500);
  const nb = join(SHARED_DATA, 'nb201', 'official', 'zc_nasbench201_subset491.json');
  const r2 = runCli(['bench', '--table', nb, '--task', 'cifar10', '--method', 'robot', '--budget', '10', '--seeds', '1', '--json']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(r2.json<{ benchmark: string }>().benchmark, 'nb201');
});

test('a data folder holding only a NAS-Bench-Suite-Zero TransNAS release is a complete benchmark', () => {
  const dir = mkdtempSync(join(tmpdir(), 'robot-nas-tnb-'));
  mkdirSync(join(dir, 'tnb101'));
  symlinkSync(join(SHARED_DATA, 'tnb101', 'official', 'zc_transbench101_macro_subset.json'), join(dir, 'tnb101', 'zc_transbench101_macro.json'));
  const r = runCli(['bench', '--benchmark', 'tnb101-macro', '--task', 'room_layout', '--data', dir, '--budget', '20', '--seeds', '1-2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = r.json<{ benchmark: string; task: string; pool: number; metrics: string[] }>();
  assert.equal(j.benchmark, 'tnb101-macro');
  assert.equal(j.task, 'room_layout');
  assert.ok(j.pool > 600 && j.pool < 800, `pool ${j.pool}`);
  assert.deepEqual(j.metrics, ['grad_norm', 'snip', 'grasp', 'fisher', 'jacov']);
});
