import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHp12Info, readTestAccuracy, readZeroCostStream } from '../../src/benchmarks/robot-pickles.js';
import { loadBenchmark, loadTable } from '../../src/benchmarks/index.js';
import { SHARED_DATA } from '../helpers/shared.js';
import { inputErr } from '../helpers/errors.js';
import { tempDirs } from '../helpers/tmp.js';
import { np64, pickle, pickleStream, pyFloat, type PyVal } from '../helpers/pickle-writer.js';

const OFFICIAL = join(SHARED_DATA, 'nb201', 'official');
const HP12 = join(OFFICIAL, 'nb2_cf10_hp12_info.p');
const SHORT: Record<string, string> = { cifar10: 'cf10', cifar100: 'cf100', 'imagenet16-120': 'im120' };
const ZC_NAME = (t: string): string => `nb2_${t}_seed42_dlrandom_dlinfo1_initwnone_initbnone.p`;
const A0 = '|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|';
const A1 = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';
const A2 = '|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|';

const tmp = tempDirs('robot-nas-pk-');

/** A zero-cost-proxies release record, values as the release writes them (numpy scalars and floats). */
function zcRecord(i: number, arch: string): PyVal {
  return {
    i,
    arch,
    logmeasures: {
      grad_norm: np64(i * 0.5),
      snip: pyFloat(i + 0.25),
      grasp: np64(-i),
      fisher: pyFloat(i / 1000),
      synflow: np64(i * 1e30),
      jacob_cov: np64(-60 - i / 100),
    },
    valacc: pyFloat(80 + i / 1e5),
    testacc: np64(79 + i / 1e5),
    trainacc: pyFloat(99.5),
  };
}

test('RoBoT pickles agree with the CSVs (same index order, valacc = hp12_valid_acc, cost = hp12_cost, test = test_acc)', () => {
  const info = readHp12Info(HP12);
  assert.equal(info.archs.length, 15625);
  for (const task of ['cifar10', 'cifar100', 'imagenet16-120']) {
    const csv = loadBenchmark({ benchmark: 'nb201', task, data: SHARED_DATA });
    const test = readTestAccuracy(join(OFFICIAL, `nb2_${SHORT[task]}_test_accuracy.p`));
    assert.equal(test.length, 15625);
    let archDiff = 0;
    let valDiff = 0;
    let costDiff = 0;
    let testDiff = 0;
    for (let i = 0; i < 15625; i++) {
      if (csv.space.parse(info.archs[i]!) !== csv.archs[i]) archDiff++;
      if (info.valacc[i] !== csv.objective[i]) valDiff++;
      if (info.cost[i] !== csv.cost[i]) costDiff++;
      if (test[i] !== csv.final[i]) testDiff++;
    }
    assert.deepEqual({ archDiff, valDiff, costDiff, testDiff }, { archDiff: 0, valDiff: 0, costDiff: 0, testDiff: 0 }, task);
  }
});

/** A data folder holding only official-format files (symlinks to the shared ones + written streams). */
function officialDir(withStream: boolean, layout: 'official' | 'nb201' | 'root' = 'official'): string {
  const dir = tmp();
  const sub = layout === 'official' ? join(dir, 'nb201', 'official') : layout === 'nb201' ? join(dir, 'nb201') : dir;
  mkdirSync(sub, { recursive: true });
  for (const f of ['nb2_cf10_hp12_info.p', 'nb2_cf10_test_accuracy.p', 'nb2_cf100_test_accuracy.p', 'nb2_im120_test_accuracy.p']) {
    symlinkSync(join(OFFICIAL, f), join(sub, f));
  }
  // the Suite-Zero sample, under the full release's name
  symlinkSync(join(OFFICIAL, 'zc_nasbench201_subset491.json'), join(sub, 'zc_nasbench201.json'));
  if (withStream) {
    const info = readHp12Info(HP12);
    // every 5th architecture, in reverse order: metrics are joined by architecture, NaN elsewhere
    const records = info.archs.map((a, i) => zcRecord(i, a)).filter((_, i) => i % 5 === 0).reverse();
    writeFileSync(join(sub, ZC_NAME('cf10')), pickleStream(records));
  }
  return dir;
}

test('data folder with only the official files: hp12 objective, test accuracy, zero-cost and Suite-Zero metrics', (t) => {
  const dir = officialDir(true);
  const t0 = performance.now();
  const b = loadBenchmark({ benchmark: 'nb201', task: 'cifar10', data: dir });
  t.diagnostic(`nb201 cifar10 from official pickles + a 3,125-record zero-cost stream: ${(performance.now() - t0).toFixed(0)} ms`);
  const csv = loadBenchmark({ benchmark: 'nb201', task: 'cifar10', data: SHARED_DATA });
  assert.deepEqual(b.archs, csv.archs);
  assert.deepEqual(b.objective, csv.objective);
  assert.deepEqual(b.cost, csv.cost);
  assert.deepEqual(b.final, csv.final);
  assert.equal(b.objectiveName, 'hp12_valid_acc');
  assert.equal(b.finalName, 'test_acc');
  assert.equal(b.sources.length, 4);
  const zc = ['grad_norm', 'snip', 'grasp', 'fisher', 'synflow', 'jacob_cov'];
  assert.deepEqual([...b.metrics.keys()].slice(0, 6), zc);
  assert.equal(b.metrics.get('grad_norm')![100], 50);
  assert.ok(Number.isNaN(b.metrics.get('grad_norm')![101]));
  assert.equal(b.metrics.get('snip')![5], 5.25);
  assert.equal(b.metrics.get('jacob_cov')![15620], -60 - 156.2);
  assert.equal(b.metrics.get('synflow')!.filter((v) => !Number.isNaN(v)).length, 3125);
  // Suite-Zero json metrics are named sz.<metric>, like the CSV's columns
  const sz = [...b.metrics.keys()].filter((m) => m.startsWith('sz.'));
  assert.equal(sz.length, 11);
  assert.equal(b.metrics.get('sz.snip')!.filter((v) => !Number.isNaN(v)).length, 491);

  // other tasks: the same objective, their own test accuracy; no stream → only sz.* metrics
  const im = loadBenchmark({ benchmark: 'nb201', task: 'imagenet16-120', data: dir });
  const imCsv = loadBenchmark({ benchmark: 'nb201', task: 'imagenet16-120', data: SHARED_DATA });
  assert.deepEqual(im.final, imCsv.final);
  assert.deepEqual(im.objective, csv.objective);
  assert.ok([...im.metrics.keys()].every((m) => m.startsWith('sz.')));
  assert.throws(
    () => loadBenchmark({ benchmark: 'nb201', task: 'cifar100', data: dir, objective: 'task' }),
    inputErr(/objective 'task' \(the task's own 12-epoch accuracy and time\) needs .*nb201\/cifar100\.csv/),
  );

  // the files may also sit directly in DIR/nb201/ or DIR/
  for (const layout of ['nb201', 'root'] as const) {
    const d = officialDir(false, layout);
    const c100 = loadBenchmark({ benchmark: 'nb201', task: 'cifar100', data: d });
    assert.equal(c100.archs.length, 15625);
    assert.equal(c100.final[1], 70.29333331298828);
  }
  // missing official files are named
  const partial = tmp();
  mkdirSync(join(partial, 'nb201'));
  symlinkSync(HP12, join(partial, 'nb201', 'nb2_cf10_hp12_info.p'));
  assert.throws(
    () => loadBenchmark({ benchmark: 'nb201', task: 'imagenet16-120', data: partial }),
    inputErr(/no NAS-Bench-201 data for imagenet16-120 in .*: expected .*nb201\/imagenet16-120\.csv, or the official files nb2_cf10_hp12_info\.p and nb2_im120_test_accuracy\.p in one of .* \(missing: nb2_im120_test_accuracy\.p\)/),
  );
});

test('loadTable reads a zero-cost-proxies release stream (protocols 2 and 4) and RoBoT hp12 info', () => {
  const dir = tmp();
  for (const protocol of [2, 4] as const) {
    const f = join(dir, `p${protocol}-${ZC_NAME('cf100')}`);
    writeFileSync(f, pickleStream([zcRecord(0, A0), zcRecord(1, A1), zcRecord(2, A2)], { protocol }));
    const b = loadTable(f, {});
    assert.equal(b.benchmark, 'nb201');
    assert.equal(b.archs.length, 3);
    assert.equal(b.archs[2], A2);
    assert.deepEqual([...b.objective], [80, 80.00001, 80.00002]);
    assert.deepEqual([...b.final], [79, 79.00001, 79.00002]);
    assert.deepEqual([...b.cost], [0, 0, 0]);
    assert.equal(b.objectiveName, 'valacc');
    assert.equal(b.finalName, 'testacc');
    assert.deepEqual([...b.metrics.keys()], ['grad_norm', 'snip', 'grasp', 'fisher', 'synflow', 'jacob_cov']);
    assert.deepEqual([...b.metrics.get('synflow')!], [0, 1e30, 2e30]);
    assert.deepEqual([...b.metrics.get('jacob_cov')!], [-60, -60.01, -60.02]);
  }
  const named = join(dir, ZC_NAME('cf100'));
  writeFileSync(named, pickleStream([zcRecord(0, A0)]));
  assert.equal(loadTable(named, {}).task, 'cifar100');
  assert.equal(loadTable(named, { task: 'mine' }).task, 'mine');
  const s = readZeroCostStream(named);
  assert.equal(s.records[0]!.trainacc, 99.5);

  // a stream written without accuracies (the release's --noacc) loads with NaN objective
  const noacc = join(dir, 'noacc.p');
  writeFileSync(noacc, pickleStream([{ i: 0, arch: A0, logmeasures: { snip: 1 } }]));
  assert.ok(Number.isNaN(loadTable(noacc, {}).objective[0]));

  const hp = loadTable(HP12, {});
  assert.equal(hp.task, 'cifar10');
  assert.equal(hp.archs.length, 15625);
  assert.equal(hp.objective[0], 63.36399998046875);
  assert.equal(hp.cost[0], 86.65311598777771);
  assert.throws(
    () => loadTable(join(OFFICIAL, 'nb2_im120_test_accuracy.p'), {}),
    inputErr(/nb2_im120_test_accuracy\.p: this pickle is a plain list of values by NAS-Bench-201 index .* no architectures; load it from a data folder instead/),
  );
});

test('pickle errors name the file, the record or entry, and what was expected', () => {
  const dir = tmp();
  const write = (name: string, bytes: Uint8Array): string => {
    const f = join(dir, name);
    writeFileSync(f, bytes);
    return f;
  };
  const full = pickleStream([zcRecord(0, A0), zcRecord(1, A1), zcRecord(2, A2)]);
  assert.throws(
    () => loadTable(write('cut.p', full.subarray(0, full.length - 10)), {}),
    inputErr(/cut\.p: the file is truncated: it ends in the middle of a pickle #3 of the stream \(starting at byte \d+\)$/),
  );
  assert.throws(
    () => loadTable(write('junk.p', Buffer.concat([full, Buffer.from([0x80, 0x04, 0xfe])])), {}),
    inputErr(/junk\.p: invalid pickle #4 of the stream \(starting at byte \d+\): unknown opcode 0xfe at byte \d+$/),
  );
  assert.throws(
    () => loadTable(write('notdict.p', pickleStream([zcRecord(0, A0), [1, 2]])), {}),
    inputErr(/notdict\.p: record 2: expected a dict \{i, arch, logmeasures, valacc, testacc, trainacc\}, got list$/),
  );
  assert.throws(
    () => loadTable(write('nolm.p', pickleStream([{ i: 0, arch: A0, valacc: 1 }])), {}),
    inputErr(/nolm\.p: record 1, key 'logmeasures': expected a dict of metric values, got None$/),
  );
  assert.throws(
    () => loadTable(write('str.p', pickleStream([zcRecord(0, A0), { i: 1, arch: A1, logmeasures: { snip: 'high' }, valacc: 1 }])), {}),
    inputErr(/str\.p: record 2, logmeasures\['snip'\]: expected a number, got str$/),
  );
  assert.throws(
    () => loadTable(write('dup.p', pickleStream([zcRecord(0, A0), zcRecord(1, A1), zcRecord(2, A0)])), {}),
    inputErr(/dup\.p: record 3: duplicate architecture '\|avg_pool_3x3~0\|.*' \(already on record 1\)$/),
  );
  assert.throws(
    () => loadTable(write('arch.p', pickleStream([zcRecord(0, '|bad~0|')])), { benchmark: 'nb201' }),
    inputErr(/arch\.p: record 1: unknown architecture '\|bad~0\|': nb201: .+/),
  );
  assert.throws(
    () => readHp12Info(write('hp.p', pickle([{ arch: A0, valacc: np64(1), cost: np64(2) }, { arch: A1, cost: np64(2) }]))),
    inputErr(/hp\.p: entry 1, key 'valacc': missing, expected a number$/),
  );
  assert.throws(() => readTestAccuracy(write('ta.p', pickle([np64(1), 'x']))), inputErr(/ta\.p: entry 1: expected a number, got str$/));
  assert.throws(() => readHp12Info(write('hpd.p', pickle({ a: 1 }))), inputErr(/hpd\.p: expected a list of \{arch, valacc, cost\} dicts \(RoBoT's hp12 info\), got dict$/));

  // a test-accuracy file whose length does not match the hp12 info
  const data = tmp();
  mkdirSync(join(data, 'nb201'));
  symlinkSync(HP12, join(data, 'nb201', 'nb2_cf10_hp12_info.p'));
  writeFileSync(join(data, 'nb201', 'nb2_cf10_test_accuracy.p'), pickle([np64(1), np64(2)]));
  assert.throws(
    () => loadBenchmark({ benchmark: 'nb201', task: 'cifar10', data }),
    inputErr(/nb2_cf10_test_accuracy\.p: has 2 test accuracies, but .*nb2_cf10_hp12_info\.p has 15625 architectures/),
  );
});
