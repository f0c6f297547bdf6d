/**
 * Issue 18, class 6 — a NaN or Infinity written in a benchmark table where a search reads its answer from (the
 * objective, the cost, the final metric) is refused with the file, line and column, in every format: CSV (a `--table`
 * file and a data folder's nb201/tnb101 CSVs), NAS-Bench-Suite-Zero JSON and pickles. Metric columns keep accepting
 * non-finite values (the released naswot holds -inf for cells it is undefined on).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBenchmark, loadTable } from '../../src/benchmarks/index.js';
import { runCli } from '../helpers/cli.js';
import { inputErr } from '../helpers/errors.js';
import { SHARED_DATA } from '../helpers/shared.js';
import { tempDirs } from '../helpers/tmp.js';
import { np64, pickle, pickleStream, pyFloat } from '../helpers/pickle-writer.js';

const tmp = tempDirs('robot-nas-trust-nonfinite-');
const A0 = '|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|';
const A1 = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';

/** The shared NAS-Bench-201 CIFAR-10 table with one cell of data line `row` (1-based, after the header) in `column` set to `value`. */
function editedNb201(column: string, row: number, value: string): string {
  const lines = readFileSync(join(SHARED_DATA, 'nb201', 'cifar10.csv'), 'utf8').split('\n');
  const k = lines[0]!.split(',').indexOf(column);
  const cells = lines[row]!.split(',');
  cells[k] = value;
  lines[row] = cells.join(',');
  return lines.join('\n');
}

test('bench --table: NaN in hp12_valid_acc is exit 2 naming file, line and column (not a silently different answer)', () => {
  const f = join(tmp(), 'nb201-nan.csv');
  writeFileSync(f, editedNb201('hp12_valid_acc', 5, 'NaN'));
  const r = runCli(['bench', '--table', f, '--method', 'robot', '--budget', '20', '--seeds', '10', '--metrics', 'sz.grad_norm,sz.snip,sz.grasp,sz.fisher,sz.synflow,sz.jacov']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /nb201-nan\.csv: line 6, column hp12_valid_acc: expected a finite number, got 'NaN'/);
});

test('CSV tables: Infinity in test_acc, inf in the cost and 1e999 are refused; -inf in a metric and empty cells are kept', () => {
  const d = tmp();
  const inf = join(d, 'inf.csv');
  writeFileSync(inf, editedNb201('test_acc', 3, 'Infinity'));
  assert.throws(() => loadTable(inf, {}), inputErr(/inf\.csv: line 4, column test_acc: expected a finite number, got 'Infinity'/));
  const cost = join(d, 'cost.csv');
  writeFileSync(cost, `arch,hp12_valid_acc,hp12_cost,test_acc,zc.naswot\n${A0},90,inf,91,-inf\n${A1},91,12,92,3\n`);
  assert.throws(() => loadTable(cost, {}), inputErr(/cost\.csv: line 2, column hp12_cost: expected a finite number, got 'inf'/));
  const big = join(d, 'big.csv');
  writeFileSync(big, `arch,valid_acc,test_acc\n${A0},1e999,91\n${A1},91,92\n`);
  assert.throws(() => loadTable(big, {}), inputErr(/big\.csv: line 2, column valid_acc: expected a finite number, got '1e999'/));
  const ok = join(d, 'ok.csv');
  writeFileSync(ok, `arch,hp12_valid_acc,hp12_cost,test_acc,zc.naswot\n${A0},90,,91,-inf\n${A1},,12,92,3\n`);
  const b = loadTable(ok, {});
  assert.equal(b.metrics.get('zc.naswot')![0], -Infinity);
  assert.ok(Number.isNaN(b.objective[1]!), 'an empty cell is an unknown value');
});

test('data folder: the nb201 CSV and the TransNAS CSV refuse non-finite objective and final values', () => {
  const d = tmp();
  mkdirSync(join(d, 'nb201'));
  writeFileSync(join(d, 'nb201', 'cifar10.csv'), editedNb201('hp12_valid_acc', 7, 'nan'));
  assert.throws(() => loadBenchmark({ benchmark: 'nb201', task: 'cifar10', data: d }), inputErr(/cifar10\.csv: line 8, column hp12_valid_acc: expected a finite number, got 'nan'/));
  mkdirSync(join(d, 'tnb101'));
  // the class_scene value of line 3 (the tuple holds commas, so the value is found by its text)
  const micro = readFileSync(join(SHARED_DATA, 'tnb101', 'micro.csv'), 'utf8').split('\n');
  micro[2] = micro[2]!.replace(/(64-41414-3_11_212),[^,]+,/, '$1,-Infinity,');
  writeFileSync(join(d, 'tnb101', 'micro.csv'), micro.join('\n'));
  assert.throws(() => loadBenchmark({ benchmark: 'tnb101-micro', task: 'class_scene', data: d }), inputErr(/micro\.csv: line 3, column class_scene: expected a finite number, got '-Infinity'/));
});

test('Suite-Zero JSON: a bare NaN val_accuracy is refused with its line and column; NaN metrics stay accepted', () => {
  const f = join(tmp(), 'zc.json');
  writeFileSync(f, '{"cifar10": {\n "(0, 1, 2, 3, 4, 0)": {"val_accuracy": 91.2, "snip": NaN},\n "(1, 1, 2, 3, 4, 0)": {"val_accuracy": Infinity, "snip": 3}\n}}');
  assert.throws(() => loadTable(f, {}), inputErr(/zc\.json:3:41: task "cifar10", key "\(1, 1, 2, 3, 4, 0\)", val_accuracy: expected a finite number, got Infinity/));
  writeFileSync(f, '{"cifar10": {\n "(0, 1, 2, 3, 4, 0)": {"val_accuracy": 91.2, "snip": NaN},\n "(1, 1, 2, 3, 4, 0)": {"val_accuracy": 90, "snip": 3}\n}}');
  assert.ok(Number.isNaN(loadTable(f, {}).metrics.get('snip')![0]!));
});

test('pickles: a NaN valacc in RoBoT hp12 info and an inf testacc in a zero-cost stream are refused, naming the entry', () => {
  const d = tmp();
  const hp = join(d, 'nb2_cf10_hp12_info.p');
  writeFileSync(hp, pickle([{ arch: A0, valacc: pyFloat(90), cost: pyFloat(10) }, { arch: A1, valacc: np64(NaN), cost: pyFloat(11) }]));
  assert.throws(() => loadTable(hp, {}), inputErr(/nb2_cf10_hp12_info\.p: entry 1, key 'valacc': expected a finite number, got NaN/));
  const zc = join(d, 'zc.p');
  const rec = (i: number, arch: string, testacc: number) => ({ i, arch, logmeasures: { snip: np64(NaN), synflow: np64(Infinity) }, valacc: pyFloat(80), testacc: np64(testacc), trainacc: pyFloat(99) });
  writeFileSync(zc, pickleStream([rec(0, A0, 79), rec(1, A1, Infinity)]));
  assert.throws(() => loadTable(zc, {}), inputErr(/zc\.p: record 2, key 'testacc': expected a finite number, got Infinity/));
  writeFileSync(zc, pickleStream([rec(0, A0, 79), rec(1, A1, 78)]));
  assert.equal(loadTable(zc, {}).metrics.get('synflow')![1], Infinity, 'metrics may be non-finite');
});
