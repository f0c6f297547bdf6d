import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseCsv } from '../../src/formats/csv.js';
import { availableMetrics, loadBenchmark, loadTable, requireMetrics } from '../../src/benchmarks/index.js';
import { SHARED_DATA } from '../helpers/shared.js';
import { inputErr } from '../helpers/errors.js';
import { tempDirs } from '../helpers/tmp.js';

const A0 = '|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|';
const A1 = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';
const A2 = '|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|';
const SIX = ['sz.grad_norm', 'sz.snip', 'sz.grasp', 'sz.fisher', 'sz.synflow', 'sz.jacov'];

const tmp = tempDirs('robot-nas-csv-');

test('parseCsv: quotes, escaped quotes, CRLF, quoted newlines, BOM, blank lines and line numbers', () => {
  const t = parseCsv('\uFEFFa,b,c\r\n1,"x, y",3\r\n\r\n"q""uote","multi\nline",4\n5,,6', 'f.csv');
  assert.deepEqual(t.header, ['a', 'b', 'c']);
  assert.deepEqual(t.rows, [
    ['1', 'x, y', '3'],
    ['q"uote', 'multi\nline', '4'],
    ['5', '', '6'],
  ]);
  assert.deepEqual(t.lines, [2, 4, 6]);
  assert.throws(() => parseCsv('a,b\n1,2\n3\n', 'f.csv'), inputErr(/^f\.csv: line 3: expected 2 fields like the header, got 1$/));
  assert.throws(() => parseCsv('a,b\n1,"2\n', 'f.csv'), inputErr(/^f\.csv: line 2: unterminated quoted field$/));
  assert.throws(() => parseCsv('a,a\n1,2\n', 'f.csv'), inputErr(/column 'a' appears twice/));
  assert.throws(() => parseCsv('a,b\n\n1,2\n"3"x,4\n', 'f.csv'), inputErr(/^f\.csv: line 4: unexpected character after a closing quote$/));
  assert.throws(() => parseCsv('a,b\n1,2"x\n', 'f.csv'), inputErr(/^f\.csv: line 2: a quote inside an unquoted field/));
  // old Mac line ends, blank lines and a quoted line break before the bad record
  const mac = parseCsv('a,b\r1,"x\ny"\r\r3,4\r', 'f.csv');
  assert.deepEqual(mac.rows, [['1', 'x\ny'], ['3', '4']]);
  assert.deepEqual(mac.lines, [2, 5]);
  assert.throws(() => parseCsv('a,b\n1,"x\ny"\n\n5\n', 'f.csv'), inputErr(/^f\.csv: line 5: expected 2 fields like the header, got 1$/));
  assert.throws(() => parseCsv('', 'f.csv'), inputErr(/empty CSV file/));
});

test('NAS-Bench-201 CSVs: 15,625 rows each, paper objective, test_acc, zc.* and sz.* metrics', (t) => {
  const expectFinal: Record<string, [number, number]> = {
    cifar10: [85.86333333333334, 93.66000000000001],
    cifar100: [52.9133333190918, 70.29333331298828],
    'imagenet16-120': [26.63333327060276, 44.03333325195313],
  };
  for (const task of ['cifar10', 'cifar100', 'imagenet16-120']) {
    const t0 = performance.now();
    const b = loadBenchmark({ benchmark: 'nb201', task, data: SHARED_DATA });
    const ms = performance.now() - t0;
    assert.equal(b.archs.length, 15625);
    assert.equal(new Set(b.archs).size, 15625);
    assert.equal(b.benchmark, 'nb201');
    assert.equal(b.task, task);
    assert.equal(b.space.id, 'nb201');
    assert.equal(b.archs[0], A0);
    assert.equal(b.archs[1], A1);
    // the paper's objective (CIFAR-10, 12 epochs) is the same for every task
    assert.equal(b.objective[0], 63.36399998046875);
    assert.equal(b.cost[0], 86.65311598777771);
    assert.equal(b.objective[1], 82.83399999389648);
    assert.equal(b.objectiveName, 'hp12_valid_acc');
    assert.equal(b.finalName, 'test_acc');
    assert.deepEqual([b.final[0], b.final[1]], expectFinal[task]);
    assert.deepEqual(
      [...b.metrics.keys()].filter((m) => m.startsWith('zc.')),
      ['zc.synflow', 'zc.snip', 'zc.naswot'],
    );
    assert.equal([...b.metrics.keys()].filter((m) => m.startsWith('sz.')).length, 13);
    const withSix = b.archs.filter((_, i) => SIX.every((m) => !Number.isNaN(b.metrics.get(m)![i]))).length;
    assert.equal(withSix, task === 'cifar100' ? 0 : 9445, `${task}: rows with all six sz metrics`);
    assert.ok(b.archs.every((_, i) => !Number.isNaN(b.metrics.get('zc.naswot')![i])), 'zc metrics cover every architecture');
    t.diagnostic(`nb201 ${task}: loaded in ${ms.toFixed(0)} ms; ${withSix} rows with all six sz metrics`);
  }
  const c10 = loadBenchmark({ benchmark: 'nb201', task: 'cifar10', data: SHARED_DATA });
  assert.equal(c10.metrics.get('sz.grad_norm')![0], 3.3537769317626953);
  assert.equal(c10.metrics.get('zc.synflow')![0], 1.395120059550484e20);
  const c100 = loadBenchmark({ benchmark: 'nb201', task: 'cifar100', data: SHARED_DATA });
  assert.ok(Number.isNaN(c100.metrics.get('sz.snip')![0]));
  assert.deepEqual(availableMetrics(c100), ['zc.synflow', 'zc.snip', 'zc.naswot']);
});

test("NAS-Bench-201 objective 'task' uses the task's own 12-epoch columns", () => {
  const b = loadBenchmark({ benchmark: 'nb201', task: 'imagenet16-120', data: SHARED_DATA, objective: 'task' });
  assert.equal(b.objective[0], 18.466666661580405);
  assert.equal(b.cost[0], 529.4816379150665);
  assert.equal(b.objectiveName, 'valid_acc_12ep');
  assert.equal(b.final[0], 26.63333327060276);
});

test('TransNAS-Bench-101 CSVs: 4,096 micro and 3,256 macro rows; objective = final = the task column', () => {
  const micro = loadBenchmark({ benchmark: 'tnb101-micro', task: 'room_layout', data: SHARED_DATA });
  assert.equal(micro.archs.length, 4096);
  assert.equal(micro.archs[0], '(2, 3, 2, 3, 2, 3)');
  assert.equal(micro.objective[0], -0.6469179391860962);
  assert.equal(micro.final[0], -0.6469179391860962);
  assert.equal(micro.cost[0], 0);
  assert.equal(micro.objectiveName, 'room_layout');
  const macro = loadBenchmark({ benchmark: 'tnb101-macro', task: 'autoencoder', data: SHARED_DATA });
  assert.equal(macro.archs.length, 3256);
  assert.equal(macro.objective[1], 0.6226282715797424);
  assert.equal(macro.space.id, 'tnb101-macro');
  const scene = loadBenchmark({ benchmark: 'tnb101-macro', task: 'class_scene', data: SHARED_DATA });
  assert.equal(scene.objective[0], 54.48845672607422);
});

test('loadTable reads our CSV layouts and any CSV with arch + named columns', () => {
  const c10 = loadTable(join(SHARED_DATA, 'nb201', 'cifar10.csv'), {});
  assert.equal(c10.benchmark, 'nb201');
  assert.equal(c10.task, 'cifar10');
  assert.equal(c10.archs.length, 15625);
  assert.equal(c10.objectiveName, 'hp12_valid_acc');
  assert.equal(c10.cost[0], 86.65311598777771);
  assert.equal(c10.final[0], 85.86333333333334);
  assert.equal(c10.metrics.size, 16);

  assert.throws(() => loadTable(join(SHARED_DATA, 'tnb101', 'micro.csv'), {}), inputErr(/holds several tasks; choose one \(--task\): class_scene, class_object, room_layout/));
  const jig = loadTable(join(SHARED_DATA, 'tnb101', 'micro.csv'), { task: 'jigsaw' });
  assert.equal(jig.benchmark, 'tnb101-micro');
  assert.equal(jig.objective[0], 91.29180145263672);
  const macro = loadTable(join(SHARED_DATA, 'tnb101', 'macro.csv'), { task: 'class_scene' });
  assert.equal(macro.benchmark, 'tnb101-macro');
  assert.equal(macro.archs.length, 3256);
  assert.throws(() => loadTable(join(SHARED_DATA, 'tnb101', 'macro.csv'), { task: 'cifar10' }), inputErr(/unknown task 'cifar10': the file holds class_scene, class_object/));

  const dir = tmp();
  const f = join(dir, 'mine.csv');
  writeFileSync(f, `arch,valid_acc,test_acc,synflow,my_metric\n${A0},70.5,71,1e3,\n"(4, 3, 3, 3, 2, 3)",80,82.5,2e3,0.5\n`);
  const b = loadTable(f, {});
  assert.equal(b.benchmark, 'nb201');
  assert.equal(b.task, 'mine');
  assert.deepEqual([...b.objective], [70.5, 80]);
  assert.deepEqual([...b.final], [71, 82.5]);
  assert.deepEqual([...b.cost], [0, 0]);
  assert.deepEqual([...b.metrics.keys()], ['synflow', 'my_metric']);
  assert.ok(Number.isNaN(b.metrics.get('my_metric')![0]), 'empty cell = NaN');
  assert.equal(b.archs[1], b.space.parse('(4, 3, 3, 3, 2, 3)'));

  // no test column: final falls back to the objective; a cost column is used
  const g = join(dir, 'g.csv');
  writeFileSync(g, `arch,val_accuracy,cost\n${A0},70.5,12\n${A1},80,\n`);
  const gb = loadTable(g, { task: 'cifar10' });
  assert.deepEqual([...gb.final], [70.5, 80]);
  assert.deepEqual([...gb.cost], [12, 0]);
  assert.equal(gb.task, 'cifar10');
  assert.equal(gb.finalName, 'val_accuracy');

  // tuples that fit several spaces need --benchmark
  const amb = join(dir, 'amb.csv');
  writeFileSync(amb, 'arch,valid_acc\n"(1, 2, 3, 1, 2, 3)",1\n"(2, 3, 2, 3, 2, 3)",2\n');
  assert.throws(() => loadTable(amb, {}), inputErr(/fit several search spaces \(nb201, tnb101-micro, tnb101-macro\); say which benchmark/));
  assert.equal(loadTable(amb, { benchmark: 'tnb101-micro' }).space.id, 'tnb101-micro');
});

function nb201Dir(csv: string): string {
  const dir = tmp();
  mkdirSync(join(dir, 'nb201'));
  writeFileSync(join(dir, 'nb201', 'cifar10.csv'), csv);
  return dir;
}

const HEAD = 'index,arch,hp12_valid_acc,hp12_cost,test_acc,zc.snip';

test('CSV errors name the file, the line and what was expected', () => {
  const missingCol = nb201Dir(`index,arch,hp12_valid_acc,test_acc\n0,${A0},1,2\n`);
  assert.throws(
    () => loadBenchmark({ benchmark: 'nb201', task: 'cifar10', data: missingCol }),
    inputErr(/nb201\/cifar10\.csv: missing required column 'hp12_cost' \(the paper's objective\) \(columns found: index, arch, hp12_valid_acc, test_acc\)$/),
  );
  const badNumber = nb201Dir(`${HEAD}\n0,${A0},1,2,3,4\n1,${A1},abc,2,3,4\n`);
  assert.throws(
    () => loadBenchmark({ benchmark: 'nb201', task: 'cifar10', data: badNumber }),
    inputErr(/cifar10\.csv: line 3, column hp12_valid_acc: expected a number, got 'abc'$/),
  );
  const badMetric = nb201Dir(`${HEAD}\n0,${A0},1,2,3,4\n1,${A1},1,2,3,\n2,${A2},1,2,3,x1\n`);
  assert.throws(
    () => loadBenchmark({ benchmark: 'nb201', task: 'cifar10', data: badMetric }),
    inputErr(/cifar10\.csv: line 4, column zc\.snip: expected a number, got 'x1'$/),
  );
  const badArch = nb201Dir(`${HEAD}\n0,${A0},1,2,3,4\n1,|conv_9x9~0|+|x|,1,2,3,4\n`);
  assert.throws(
    () => loadBenchmark({ benchmark: 'nb201', task: 'cifar10', data: badArch }),
    inputErr(/cifar10\.csv: line 3: unknown architecture '\|conv_9x9~0\|\+\|x\|': nb201: .+/),
  );
  const dup = nb201Dir(`${HEAD}\n0,${A0},1,2,3,4\n1,${A1},1,2,3,4\n2,${A0},1,2,3,4\n`);
  assert.throws(
    () => loadBenchmark({ benchmark: 'nb201', task: 'cifar10', data: dup }),
    inputErr(/cifar10\.csv: line 4: duplicate architecture '\|avg_pool_3x3~0\|.*' \(already on line 2\)$/),
  );
  const dupNotation = join(tmp(), 't.csv');
  writeFileSync(dupNotation, `arch,valid_acc\n${A2},1\n"(2, 1, 4, 0, 1, 3)",2\n`);
  assert.throws(() => loadTable(dupNotation, {}), inputErr(/line 3: duplicate architecture '\(2, 1, 4, 0, 1, 3\)' \(already on line 2 as '\|nor_conv_3x3~0\|\+\|none~0\|.*~2\|'\)$/));
  const noObjective = join(tmp(), 'n.csv');
  writeFileSync(noObjective, `arch,score\n${A0},1\n`);
  assert.throws(() => loadTable(noObjective, {}), inputErr(/n\.csv: missing an objective column: expected one of hp12_valid_acc, valid_acc, val_accuracy, valacc, valid_acc_12ep \(columns found: arch, score\)$/));
  const noArch = join(tmp(), 'na.csv');
  writeFileSync(noArch, `name,valid_acc\nx,1\n`);
  assert.throws(() => loadTable(noArch, {}), inputErr(/na\.csv: missing required column 'arch' \(architecture strings\) \(columns found: name, valid_acc\)$/));
  assert.throws(() => loadTable(join(tmp(), 'absent.csv'), {}), inputErr(/absent\.csv: file not found$/));
  const tnbDir = tmp();
  mkdirSync(join(tnbDir, 'tnb101'));
  writeFileSync(join(tnbDir, 'tnb101', 'micro.csv'), 'id,arch,api_arch,class_scene\n0,"(2, 3, 2, 3, 2, 3)",x,1\n1,"(2, 3, 2, 3, 2, 9)",x,1\n');
  assert.throws(
    () => loadBenchmark({ benchmark: 'tnb101-micro', task: 'class_scene', data: tnbDir }),
    inputErr(/micro\.csv: line 3: unknown architecture '\(2, 3, 2, 3, 2, 9\)': tnb101-micro: .+/),
  );
  assert.throws(
    () => loadBenchmark({ benchmark: 'tnb101-micro', task: 'jigsaw', data: tnbDir }),
    inputErr(/micro\.csv: missing required column 'jigsaw' \(the task's performance column\) \(columns found: id, arch, api_arch, class_scene\)$/),
  );
});

test('requireMetrics lists the available metrics when one is absent everywhere', () => {
  const dir = nb201Dir(`${HEAD},sz.grasp\n0,${A0},1,2,3,4,\n1,${A1},1,2,3,,\n`);
  const b = loadBenchmark({ benchmark: 'nb201', task: 'cifar10', data: dir });
  assert.ok(Number.isNaN(b.metrics.get('zc.snip')![1]));
  requireMetrics(b, ['zc.snip']);
  assert.throws(() => requireMetrics(b, ['zc.snip', 'synflow']), inputErr(/nb201 cifar10: metric 'synflow' not available in .*cifar10\.csv; available metrics: zc\.snip$/));
  assert.throws(
    () => requireMetrics(b, ['sz.grasp', 'jacov']),
    inputErr(/metrics 'sz\.grasp', 'jacov' not available \('sz\.grasp' present but without any value\) in .*; available metrics: zc\.snip$/),
  );
});

test('a quote-free file split directly reads exactly as csv-parse reads it: records, line numbers and errors', () => {
  const cell = fc.stringMatching(/^[a-z0-9 .+\-|~]{0,6}$/);
  const lineEnd = fc.constantFrom('\n', '\r\n', '\r');
  const file = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.boolean(), fc.boolean()).chain(([width, bom, ragged]) =>
    fc
      .array(fc.tuple(fc.oneof(fc.array(cell, { minLength: width, maxLength: width }), fc.array(cell, { minLength: ragged ? 1 : width, maxLength: ragged ? 5 : width }), fc.constant([])), lineEnd), { minLength: 1, maxLength: 8 })
      .map((lines) => (bom ? '\uFEFF' : '') + lines.map(([cells, end]) => cells.join(',') + end).join('')),
  );
  fc.assert(
    fc.property(file, fc.boolean(), (text, trailing) => {
      const t = trailing ? text : text.replace(/(\r\n|\n|\r)$/, '');
      const read = (library: boolean) => {
        try {
          return parseCsv(t, 'f.csv', { library });
        } catch (e) {
          return { error: (e as Error).message };
        }
      };
      assert.deepEqual(read(false), read(true), JSON.stringify(t));
    }),
    { numRuns: 500 },
  );
});
