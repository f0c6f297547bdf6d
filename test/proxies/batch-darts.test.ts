import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { readMetricTable } from '../../src/benchmarks/join.js';
import { buildDarts } from '../../src/networks/darts.js';
import { sampleDartsArchs } from '../../src/pipeline/archs.js';
import { countMacs } from '../../src/proxies/cost.js';
import { readResults, splitCsvLine } from '../../src/proxies/results.js';
import { dartsSpace } from '../../src/spaces/darts.js';

// Tiny DARTS networks: C=4, 2 cells (both reductions), 4 images: a few seconds per run.
const SMALL = ['--channels', '4', '--cells', '2', '--batch', '4', '--workers', '0', '--seed', '3'];
const METRICS = 'grad_norm,snip,grasp,fisher,synflow,jacob_cov,naswot,params,flops';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'robot-nas-darts-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function proxies(args: string[]) {
  return runCli(['proxies', '--space', 'darts', '--dataset', 'cifar10-1k', ...SMALL, ...args]);
}

test('darts batch: N sampled genotypes, quoted arch column, finite metrics, resumable', () => {
  const out = join(dir, 'd.csv');
  let r = proxies(['--archs', '2', '--metrics', METRICS, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const { header, rows } = readResults(out, dartsSpace);
  assert.deepEqual(header, ['arch', ...METRICS.split(','), 'ln_synflow', 'seconds']);
  assert.deepEqual([...rows.keys()], sampleDartsArchs(2, 3));
  for (const [arch, rec] of rows) {
    assert.match(arch, /^Genotype\(normal=\[\('/);
    for (const m of METRICS.split(',')) assert.ok(Number.isFinite(rec[m]), `${m} of ${arch}: ${rec[m]}`);
    assert.ok(rec.flops > 0 && rec.params > 0);
  }
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.ok(lines[1].startsWith('"Genotype('), 'the genotype is a quoted CSV field');
  const before = readFileSync(out, 'utf8');
  r = proxies(['--archs', '2', '--metrics', METRICS, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /2 resumed, 0 computed/);
  assert.equal(readFileSync(out, 'utf8'), before);
  // the table joins by canonical genotype (csv-parse reads the quoted field)
  const t = readMetricTable(out, dartsSpace);
  assert.deepEqual(t.archs, [...rows.keys()]);
  assert.ok(t.columns.has('synflow'));
});

test('darts batch: --archs all is a usage error explaining that the space is sampled', () => {
  const r = proxies(['--archs', 'all', '--out', join(dir, 'all.csv')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /cannot be enumerated; it can only be sampled/);
});

test('darts batch: --archs FILE with a bad line names the line', () => {
  const file = join(dir, 'archs.txt');
  writeFileSync(file, `${sampleDartsArchs(1, 0)[0]}\nGenotype(normal=oops)\n`);
  const r = proxies(['--archs', file, '--out', join(dir, 'f.csv')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /archs\.txt.*2/);
});

test('darts sampling follows RoBoT: nested for one seed, distinct', () => {
  const a = sampleDartsArchs(5, 7);
  assert.deepEqual(sampleDartsArchs(3, 7), a.slice(0, 3));
  assert.equal(new Set(a).size, 5);
});

test('splitCsvLine undoes the quoting', () => {
  assert.deepEqual(splitCsvLine(`"a, ('b', 1)",2, 3`), [`a, ('b', 1)`, '2', '3']);
  assert.deepEqual(splitCsvLine(`"say ""hi""",x`), ['say "hi"', 'x']);
  assert.equal(splitCsvLine(`"unterminated, 1`), undefined);
});

const pools = (ops: [string, string][]): string => `[${ops.map(([a, b], i) => `('${i < 2 ? a : 'max_pool_3x3'}', 0), ('${i < 2 ? b : 'max_pool_3x3'}', 1)`).join(', ')}]`;

test('flops of a small DARTS net matches a hand count (depthwise, dilated, pooling, factorized reduce)', () => {
  // C=4, 2 layers: both cells are reductions (at 2//3 = 0 and 4//3 = 1), 32×32 input, 10 classes.
  const plain = `Genotype(normal=${pools([['max_pool_3x3', 'max_pool_3x3'], ['max_pool_3x3', 'max_pool_3x3'], ['x', 'x'], ['x', 'x']])}, normal_concat=range(2, 6), reduce=${pools([['max_pool_3x3', 'max_pool_3x3'], ['max_pool_3x3', 'max_pool_3x3'], ['x', 'x'], ['x', 'x']])}, reduce_concat=range(2, 6))`;
  const net = (g: string) => buildDarts({ genotype: g, channels: 4, layers: 2, numClasses: 10 });
  // stem 3→12 3×3 at 32²; cell 0 (C=8): two 1×1 12→8 at 32²; cell 1 (C=16): FactorizedReduce 12→2×8 stride 2
  // at 16², 1×1 32→16 at 16²; classifier 64→10. Pools cost nothing.
  const base = 32 * 32 * 12 * 3 * 9 + 2 * (32 * 32 * 8 * 12) + 2 * (16 * 16 * 8 * 12) + 16 * 16 * 16 * 32 + 64 * 10;
  assert.equal(countMacs(net(plain)), base);
  assert.equal(base, 709248);
  // node 0 of the reduce cell: sep_conv_3x3 on input 0 (stride 2), dil_conv_3x3 on input 1 (stride 2, dilation 2)
  const convs = plain.replace(/reduce=\[\('max_pool_3x3', 0\), \('max_pool_3x3', 1\)/, "reduce=[('sep_conv_3x3', 0), ('dil_conv_3x3', 1)");
  assert.notEqual(convs, plain);
  // sep: (dw 3×3 stride 2 + pw 1×1) + (dw 3×3 + pw 1×1) at the output size; dil: dw 3×3 + pw 1×1
  const sep = (hw: number, c: number) => 2 * (hw * hw * c * 9 + hw * hw * c * c);
  const dil = (hw: number, c: number) => hw * hw * c * 9 + hw * hw * c * c;
  const extra = sep(16, 8) + sep(8, 16) + dil(16, 8) + dil(8, 16);
  assert.equal(countMacs(net(convs)), base + extra);
  assert.equal(base + extra, 890496);
});
