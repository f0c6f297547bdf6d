import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSuiteZero } from '../../src/benchmarks/suitezero.js';
import { loadBenchmark, loadTable, type Benchmark } from '../../src/benchmarks/index.js';
import { SHARED_DATA } from '../helpers/shared.js';
import { inputErr } from '../helpers/errors.js';
import { tempDirs } from '../helpers/tmp.js';

const NB_JSON = join(SHARED_DATA, 'nb201', 'official', 'zc_nasbench201_subset491.json');
const TNB = join(SHARED_DATA, 'tnb101', 'official');
const MICRO_SUBSET = join(TNB, 'zc_transbench101_micro_subset.json');
const MACRO_SUBSET = join(TNB, 'zc_transbench101_macro_subset.json');
const MICRO_2128 = join(TNB, 'zc_transbench101_micro_class_scene_2128.json');

const tmp = tempDirs('robot-nas-sz-');

function covered(b: Benchmark, metric: string): number {
  const col = b.metrics.get(metric);
  return col === undefined ? 0 : col.filter((v) => !Number.isNaN(v)).length;
}

function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-12);
}

test('Suite-Zero nb201 json (sample): tasks, tuple keys, val_accuracy objective, metrics', () => {
  assert.throws(() => loadTable(NB_JSON, {}), inputErr(/holds several tasks; choose one \(--task\): cifar100, ImageNet16-120, cifar10$/));
  const b = loadTable(NB_JSON, { task: 'cifar10' });
  assert.equal(b.benchmark, 'nb201');
  assert.equal(b.task, 'cifar10');
  assert.equal(b.archs.length, 491);
  assert.equal(b.archs[0], b.space.parse('(4, 3, 3, 3, 2, 3)'));
  assert.equal(b.objective[0], 88.24);
  assert.equal(b.final[0], 88.24);
  assert.equal(b.cost[0], 0);
  assert.equal(b.objectiveName, 'val_accuracy');
  assert.deepEqual([...b.metrics.keys()].sort(), ['epe_nas', 'fisher', 'flops', 'grad_norm', 'grasp', 'jacov', 'l2_norm', 'params', 'plain', 'snip', 'synflow']);
  assert.equal(b.metrics.get('snip')![0], 110.23413848876953);
  const im = loadTable(NB_JSON, { task: 'imagenet16-120' });
  assert.equal(im.task, 'imagenet16-120');
  assert.equal(im.metrics.get('grasp')![1], 301.04248046875);
  assert.equal(im.objective[1], 43.96666661580404);
  assert.throws(() => loadTable(NB_JSON, { task: 'svhn' }), inputErr(/unknown task 'svhn': the file holds cifar100, ImageNet16-120, cifar10$/));
});

test('Suite-Zero nb201 json vs the CSV sz.* columns (same architectures)', (t) => {
  for (const [task, key] of [
    ['cifar10', 'cifar10'],
    ['imagenet16-120', 'imagenet16-120'],
  ] as const) {
    const js = loadTable(NB_JSON, { task: key });
    const csv = loadBenchmark({ benchmark: 'nb201', task, data: SHARED_DATA });
    const row = new Map(csv.archs.map((a, i) => [a, i]));
    let withSz = 0;
    const agree = new Map<string, number>();
    for (let j = 0; j < js.archs.length; j++) {
      const i = row.get(js.archs[j]!);
      assert.ok(i !== undefined, `json arch ${js.archs[j]} is in the CSV`);
      if (Number.isNaN(csv.metrics.get('sz.flops')![i])) continue;
      withSz++;
      for (const [m, col] of js.metrics) {
        if (relDiff(col[j]!, csv.metrics.get(`sz.${m}`)![i]!) <= 1e-9) agree.set(m, (agree.get(m) ?? 0) + 1);
      }
    }
    // flops and params depend only on the architecture: they agree exactly, which checks the tuple ↔ string mapping
    assert.equal(withSz, 303);
    assert.equal(agree.get('flops'), withSz);
    assert.equal(agree.get('params'), withSz);
    // the other metrics come from a different computation than the CSV's sz.* columns
    for (const m of ['grad_norm', 'snip', 'grasp', 'fisher', 'synflow', 'jacov']) assert.equal(agree.get(m) ?? 0, 0, `${task} ${m}`);
    t.diagnostic(`${task}: ${withSz}/491 sample archs have sz.* in the CSV; agreeing metrics: ${JSON.stringify(Object.fromEntries(agree))}`);
    const valEqTest = js.archs.filter((a, j) => relDiff(js.objective[j]!, csv.final[row.get(a)!]!) <= 1e-6).length;
    t.diagnostic(`${task}: json val_accuracy equals the CSV test_acc for ${valEqTest}/491 archs`);
  }
});

test('Suite-Zero tnb101 jsons: subsets and the task-specific sample vs the CSVs', (t) => {
  const micro = loadTable(MICRO_SUBSET, { task: 'class_object' });
  assert.equal(micro.benchmark, 'tnb101-micro');
  assert.equal(micro.archs.length, 711);
  assert.equal(micro.archs[0], '(2, 3, 2, 3, 2, 3)');
  assert.equal(micro.metrics.get('snip')![0], 656.9702758789062);
  assert.ok(!micro.metrics.has('synflow'), 'the subset samples have no synflow');
  const macro = loadTable(MACRO_SUBSET, { task: 'jigsaw' });
  assert.equal(macro.benchmark, 'tnb101-macro');
  assert.equal(macro.archs.length, 725);
  assert.equal(macro.metrics.get('grasp')![0], 16.4376220703125);
  assert.deepEqual([...macro.metrics.keys()].sort(), ['epe_nas', 'fisher', 'flops', 'grad_norm', 'grasp', 'jacov', 'l2_norm', 'nwot', 'params', 'plain', 'snip']);
  const scene = loadTable(MICRO_2128, {});
  assert.equal(scene.task, 'class_scene');
  assert.equal(scene.archs.length, 2128);
  assert.equal(scene.metrics.get('synflow')![0], 108.13534466665664);

  // val_accuracy against the CSV task columns
  const disagreements = (js: Benchmark, id: 'tnb101-micro' | 'tnb101-macro'): number => {
    const csv = loadBenchmark({ benchmark: id, task: js.task, data: SHARED_DATA });
    const row = new Map(csv.archs.map((a, i) => [a, i]));
    return js.archs.filter((a, j) => relDiff(js.objective[j]!, csv.objective[row.get(a)!]!) > 1e-6).length;
  };
  for (const task of ['class_scene', 'class_object', 'room_layout', 'jigsaw', 'segmentsemantic', 'normal', 'autoencoder']) {
    assert.equal(disagreements(loadTable(MICRO_SUBSET, { task }), 'tnb101-micro'), 0, `micro subset ${task}`);
    assert.equal(disagreements(loadTable(MACRO_SUBSET, { task }), 'tnb101-macro'), 0, `macro subset ${task}`);
  }
  const d2128 = disagreements(scene, 'tnb101-micro');
  assert.equal(d2128, 542);
  t.diagnostic(`zc_transbench101_micro_class_scene_2128.json: val_accuracy differs from micro.csv class_scene (>1e-6 rel.) for ${d2128}/2128 archs`);
});

test('data folder: tnb101 metrics are merged from the first json that holds the task', () => {
  const scene = loadBenchmark({ benchmark: 'tnb101-micro', task: 'class_scene', data: SHARED_DATA });
  assert.equal(scene.sources[1], MICRO_2128);
  assert.equal(covered(scene, 'synflow'), 2128);
  assert.equal(scene.metrics.get('snip')![0], 550.8997192382812);
  assert.equal(scene.metrics.size, 13);
  const obj = loadBenchmark({ benchmark: 'tnb101-micro', task: 'class_object', data: SHARED_DATA });
  assert.equal(obj.sources[1], MICRO_SUBSET);
  assert.equal(covered(obj, 'snip'), 711);
  assert.equal(obj.metrics.get('snip')![0], 656.9702758789062);
  const mj = loadBenchmark({ benchmark: 'tnb101-macro', task: 'jigsaw', data: SHARED_DATA });
  assert.equal(mj.sources[1], MACRO_SUBSET);
  assert.equal(covered(mj, 'grasp'), 725);

  // a full release in DIR/tnb101/ takes precedence over the samples in DIR/tnb101/official/
  const dir = tmp();
  mkdirSync(join(dir, 'tnb101', 'official'), { recursive: true });
  symlinkSync(join(SHARED_DATA, 'tnb101', 'micro.csv'), join(dir, 'tnb101', 'micro.csv'));
  symlinkSync(MICRO_2128, join(dir, 'tnb101', 'official', 'zc_transbench101_micro_class_scene_2128.json'));
  symlinkSync(MICRO_SUBSET, join(dir, 'tnb101', 'official', 'zc_transbench101_micro_subset.json'));
  writeFileSync(
    join(dir, 'tnb101', 'zc_transbench101_micro.json'),
    JSON.stringify({ class_scene: { '(2, 3, 2, 3, 2, 3)': { id: 0, val_accuracy: 1, snip: { score: 5, time: 1 }, mine: { score: 7 } } } }),
  );
  const full = loadBenchmark({ benchmark: 'tnb101-micro', task: 'class_scene', data: dir });
  assert.equal(full.sources[1], join(dir, 'tnb101', 'zc_transbench101_micro.json'));
  assert.deepEqual([...full.metrics.keys()], ['snip', 'mine']);
  assert.equal(full.metrics.get('mine')![0], 7);
  assert.equal(covered(full, 'snip'), 1);
  // that file lacks class_object: the subset sample is used
  const next = loadBenchmark({ benchmark: 'tnb101-micro', task: 'class_object', data: dir });
  assert.equal(next.sources[1], join(dir, 'tnb101', 'official', 'zc_transbench101_micro_subset.json'));
  // no json at all: no metrics, not an error
  const bare = tmp();
  mkdirSync(join(bare, 'tnb101'));
  symlinkSync(join(SHARED_DATA, 'tnb101', 'macro.csv'), join(bare, 'tnb101', 'macro.csv'));
  const nometrics = loadBenchmark({ benchmark: 'tnb101-macro', task: 'normal', data: bare });
  assert.equal(nometrics.metrics.size, 0);
  assert.deepEqual(nometrics.sources, [join(bare, 'tnb101', 'macro.csv')]);
});

test('Suite-Zero parsing: Python NaN/Infinity tokens, plain and {score} values, wrapped layout', () => {
  const sz = parseSuiteZero('{"nasbench201": {"cifar10": {"(0, 0, 0, 0, 0, 0)": {"snip": NaN, "grasp": -Infinity, "val_accuracy": 50}}}}', 'x.json');
  assert.equal(sz.spaceKey, 'nasbench201');
  const e = sz.tasks[0]!.entries[0]!;
  assert.ok(Number.isNaN(e.metrics.get('snip')));
  assert.equal(e.metrics.get('grasp'), -Infinity);
  assert.equal(e.valAcc, 50);
  const flat = parseSuiteZero('{"jigsaw": {"(1, 2, 3, 4)": {"id": 3, "arch": "(1, 2, 3, 4)", "naslib_subset_idx": "1", "snip": {"score": 2, "time": 9}}}}', 'y.json');
  assert.equal(flat.spaceKey, undefined);
  assert.deepEqual([...flat.tasks[0]!.entries[0]!.metrics], [['snip', 2]]);
  assert.ok(Number.isNaN(flat.tasks[0]!.entries[0]!.valAcc));
});

test('Suite-Zero errors name the file, the key and what was expected', () => {
  const dir = tmp();
  const write = (name: string, text: string): string => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  assert.throws(() => loadTable(write('bad.json', '{"cifar10": {'), {}), inputErr(/bad\.json: invalid JSON: /));
  assert.throws(() => loadTable(write('list.json', '[1, 2]'), {}), inputErr(/list\.json: expected a JSON object/));
  assert.throws(() => loadTable(write('other.json', '{"a": 1, "b": {"c": 2}}'), {}), inputErr(/other\.json: not in a NAS-Bench-Suite-Zero layout: .* \(top-level keys found: a, b\)$/));
  assert.throws(
    () => loadTable(write('m.json', '{"cifar10": {"(0, 0, 0, 0, 0, 0)": {"snip": [1, 2], "val_accuracy": 1}}}'), {}),
    inputErr(/m\.json: task "cifar10", key "\(0, 0, 0, 0, 0, 0\)", metric "snip": expected a number or \{score, time\}, got a list$/),
  );
  assert.throws(
    () => loadTable(write('s.json', '{"cifar10": {"(0, 0, 0, 0, 0, 0)": {"snip": {"score": "high"}, "val_accuracy": 1}}}'), {}),
    inputErr(/s\.json: task "cifar10", key "\(0, 0, 0, 0, 0, 0\)", metric "snip": expected a numeric score, got 'high'$/),
  );
  assert.throws(
    () => loadTable(write('v.json', '{"cifar10": {"(0, 0, 0, 0, 0, 0)": {"snip": 1, "val_accuracy": "abc"}}}'), {}),
    inputErr(/v\.json: task "cifar10", key "\(0, 0, 0, 0, 0, 0\)", val_accuracy: expected a number, got 'abc'$/),
  );
  assert.throws(
    () => loadTable(write('a.json', '{"cifar10": {"(0, 0, 0, 0, 0, 7)": {"snip": 1, "val_accuracy": 1}}}'), {}),
    inputErr(/a\.json: task "cifar10", key "\(0, 0, 0, 0, 0, 7\)": unknown architecture '\(0, 0, 0, 0, 0, 7\)': nb201: .+/),
  );
  assert.throws(
    () => loadTable(write('d.json', '{"cifar10": {"(0, 0, 0, 0, 0, 1)": {"snip": 1}, "(0,0,0,0,0,1)": {"snip": 2}}}'), {}),
    inputErr(/d\.json: task "cifar10", key "\(0,0,0,0,0,1\)": duplicate architecture '\(0,0,0,0,0,1\)' \(already on task "cifar10", key "\(0, 0, 0, 0, 0, 1\)" as '\(0, 0, 0, 0, 0, 1\)'\)$/),
  );
  // an unparsable key in a json merged by the data folder is reported too
  const data = tmp();
  mkdirSync(join(data, 'tnb101'));
  symlinkSync(join(SHARED_DATA, 'tnb101', 'micro.csv'), join(data, 'tnb101', 'micro.csv'));
  writeFileSync(join(data, 'tnb101', 'zc_transbench101_micro.json'), '{"normal": {"(7, 7, 7, 7, 7, 7)": {"snip": {"score": 1}}}}');
  assert.throws(
    () => loadBenchmark({ benchmark: 'tnb101-micro', task: 'normal', data }),
    inputErr(/zc_transbench101_micro\.json: task "normal", key "\(7, 7, 7, 7, 7, 7\)": unknown architecture '\(7, 7, 7, 7, 7, 7\)': tnb101-micro: .+/),
  );
});
