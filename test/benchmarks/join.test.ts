import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joinMetrics, readMetricTable, withMetricsTable } from '../../src/benchmarks/join.js';
import type { Benchmark } from '../../src/benchmarks/types.js';
import { nb201Space } from '../../src/spaces/nb201.js';
import { InputError } from '../../src/util/errors.js';

const A0 = '|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|';
const A1 = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';
const A2 = '|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|';
const A3 = '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|';

const dir = mkdtempSync(join(tmpdir(), 'robot-nas-join-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function bench(): Benchmark {
  return Object.freeze({
    benchmark: 'nb201',
    task: 'cifar10',
    space: nb201Space,
    sources: ['bench.csv'],
    archs: [A0, A1, A2],
    objective: Float64Array.of(80, 90, 70),
    cost: Float64Array.of(1, 2, 3),
    final: Float64Array.of(81, 91, 71),
    metrics: new Map([['sz.snip', Float64Array.of(1, 2, 3)]]),
    objectiveName: 'hp12_valid_acc',
    finalName: 'test_acc',
  });
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function inputErr(re: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  };
}

test('joinMetrics: columns by arch, NaN where the table has no row, extra table archs ignored, input untouched', () => {
  const b = bench();
  const t = { file: 't.csv', archs: [A1, A3, A0], columns: new Map([['snip', Float64Array.of(10, 99, 30)]]) };
  const j = joinMetrics(b, t);
  assert.deepEqual([...j.metrics.keys()], ['sz.snip', 'snip']);
  assert.deepEqual([...j.metrics.get('snip')!], [30, 10, NaN]);
  assert.deepEqual(j.sources, ['bench.csv', 't.csv']);
  assert.equal(j.objective, b.objective);
  assert.equal(b.metrics.has('snip'), false);
});

test('joinMetrics: a clashing column name or no shared architecture is an InputError', () => {
  assert.throws(() => joinMetrics(bench(), { file: 't.csv', archs: [A0], columns: new Map([['sz.snip', Float64Array.of(1)]]) }), inputErr(/'sz\.snip' is already a metric/));
  assert.throws(() => joinMetrics(bench(), { file: 't.csv', archs: [A3], columns: new Map([['x', Float64Array.of(1)]]) }), inputErr(/none of its 1 architectures/));
});

test('readMetricTable: any notation, seconds is not a metric, nan/inf cells, bad lines named', () => {
  const p = file('ok.csv', `arch,grad_norm,synflow,seconds\n${A1},1.5,inf,0.2\n"(4, 3, 3, 3, 2, 3)",2.5,nan,0.3\n`);
  const t = readMetricTable(p, nb201Space);
  assert.deepEqual(t.archs, [A1, nb201Space.parse('(4, 3, 3, 3, 2, 3)')]);
  assert.deepEqual([...t.columns.keys()], ['grad_norm', 'synflow']);
  assert.deepEqual([...t.columns.get('synflow')!], [Infinity, NaN]);
  assert.throws(() => readMetricTable(file('bad.csv', `arch,x\n${A0},1\n|nope|,2\n`), nb201Space), inputErr(/bad\.csv:3: not a nb201 architecture/));
  assert.throws(() => readMetricTable(file('dup.csv', `arch,x\n${A0},1\n${A0},2\n`), nb201Space), inputErr(/dup\.csv:3: .*repeats line 2/));
  assert.throws(() => readMetricTable(file('none.csv', `arch,seconds\n${A0},1\n`), nb201Space), inputErr(/no metric columns/));
  const j = withMetricsTable(bench(), p);
  assert.deepEqual([...j.metrics.get('grad_norm')!], [NaN, 1.5, NaN]);
});
