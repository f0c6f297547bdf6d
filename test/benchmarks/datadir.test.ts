import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../../src/util/errors.js';
import { findNb201Files, packageRoot, tnb101SuiteZeroCandidates } from '../../src/benchmarks/datadir.js';
import { loadBenchmark, loadTable, resolveDataDir } from '../../src/benchmarks/index.js';
import { REPO, SHARED_DATA } from '../helpers/shared.js';
import { inputErr } from '../helpers/errors.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('robot-nas-dd-');

test('the package root is found by walking up to package.json', () => {
  assert.equal(packageRoot(), REPO);
});

test('data folder resolution: --data, then ROBOT_NAS_DATA, then ../shared/data next to the repository', () => {
  const a = tmp();
  const b = tmp();
  const repo = join(tmp(), 'repo');
  mkdirSync(repo);
  mkdirSync(join(repo, '..', 'shared', 'data'), { recursive: true });
  assert.equal(resolveDataDir(a, { ROBOT_NAS_DATA: b }, repo), a);
  assert.equal(resolveDataDir(undefined, { ROBOT_NAS_DATA: b }, repo), b);
  assert.equal(resolveDataDir('', { ROBOT_NAS_DATA: b }, repo), b);
  assert.equal(resolveDataDir(undefined, {}, repo), resolve(repo, '..', 'shared', 'data'));
  assert.equal(resolveDataDir(undefined, { ROBOT_NAS_DATA: '' }, repo), resolve(repo, '..', 'shared', 'data'));
  // default repository root: the package's
  assert.equal(resolveDataDir(undefined, {}), resolve(REPO, '..', 'shared', 'data'));
  assert.throws(() => resolveDataDir(join(a, 'nope'), { ROBOT_NAS_DATA: b }), inputErr(/^--data .*nope: no such directory/));
  assert.throws(() => resolveDataDir(undefined, { ROBOT_NAS_DATA: join(b, 'nope') }, repo), inputErr(/^ROBOT_NAS_DATA=.*nope: no such directory/));
});

test('no data folder: the error says what to download and where to put it', () => {
  const lonely = join(tmp(), 'repo');
  mkdirSync(lonely);
  assert.throws(
    () => resolveDataDir(undefined, {}, lonely),
    (e: unknown) => {
      assert.ok(e instanceof InputError);
      const m = e.message;
      assert.match(m, /^no benchmark data folder found: --data was not given, ROBOT_NAS_DATA is not set, and .*shared\/data does not exist\./);
      for (const name of [
        'nb2_cf10_hp12_info.p',
        'nb2_{cf10,cf100,im120}_test_accuracy.p',
        'nb2_*_seed42_dlrandom_dlinfo1_initwnone_initbnone.p',
        'zc_nasbench201.json',
        'zc_transbench101_micro.json',
        'DIR/nb201/cifar10.csv',
        'DIR/nb201/official/nb2_cf10_hp12_info.p',
        'DIR/tnb101/micro.csv',
        'then pass --data DIR or set ROBOT_NAS_DATA=DIR',
      ]) {
        assert.ok(m.includes(name), `error mentions ${name}:\n${m}`);
      }
      return true;
    },
  );
  assert.throws(() => loadBenchmark({ benchmark: 'nb201', task: 'cifar10', env: {}, cwdRepo: lonely }), inputErr(/no benchmark data folder found/));
});

test('loadBenchmark follows the same order (data option, env option, cwdRepo)', () => {
  const viaEnv = loadBenchmark({ benchmark: 'tnb101-macro', task: 'normal', env: { ROBOT_NAS_DATA: SHARED_DATA } });
  assert.equal(viaEnv.sources[0], join(SHARED_DATA, 'tnb101', 'macro.csv'));
  const empty = tmp();
  // an explicit folder wins over the environment, even when it lacks the files
  assert.throws(
    () => loadBenchmark({ benchmark: 'tnb101-macro', task: 'normal', data: empty, env: { ROBOT_NAS_DATA: SHARED_DATA } }),
    inputErr(/no TransNAS-Bench-101 macro data for task .* in .*: expected .*tnb101\/macro\.csv or zc_transbench101_macro\.json\.\nPut the benchmark files in a folder laid out like this/),
  );
  assert.throws(
    () => loadBenchmark({ benchmark: 'nb201', task: 'cifar100', data: empty }),
    inputErr(/no NAS-Bench-201 data for cifar100 in .*: expected .*nb201\/cifar100\.csv, or the official files nb2_cf10_hp12_info\.p and nb2_cf100_test_accuracy\.p .*\(missing: nb2_cf10_hp12_info\.p, nb2_cf100_test_accuracy\.p\)/),
  );
});

test('unknown benchmark, task or objective; task names are case-insensitive', () => {
  assert.throws(() => loadBenchmark({ benchmark: 'nb101' as 'nb201', task: 'cifar10', data: SHARED_DATA }), inputErr(/^unknown benchmark 'nb101' \(expected one of: nb201, tnb101-micro, tnb101-macro\)$/));
  assert.throws(() => loadBenchmark({ benchmark: 'nb201', task: 'svhn', data: SHARED_DATA }), inputErr(/^unknown task 'svhn' for nb201 \(valid tasks: cifar10, cifar100, imagenet16-120\)$/));
  assert.throws(
    () => loadBenchmark({ benchmark: 'tnb101-micro', task: 'cifar10', data: SHARED_DATA }),
    inputErr(/^unknown task 'cifar10' for tnb101-micro \(valid tasks: class_scene, class_object, room_layout, jigsaw, segmentsemantic, normal, autoencoder\)$/),
  );
  assert.throws(() => loadBenchmark({ benchmark: 'nb201', task: 'cifar10', data: SHARED_DATA, objective: 'best' as 'paper' }), inputErr(/unknown objective 'best'/));
  const b = loadBenchmark({ benchmark: 'tnb101-micro', task: 'Class_Scene', data: SHARED_DATA });
  assert.equal(b.task, 'class_scene');
  assert.throws(() => loadTable(tmp(), {}), inputErr(/is a directory, expected a file$/));
});

test('file search: nb201 official files in official/, nb201/ or the folder itself; tnb101 json order', () => {
  const files = findNb201Files(SHARED_DATA, 'imagenet16-120');
  assert.equal(files.csv, join(SHARED_DATA, 'nb201', 'imagenet16-120.csv'));
  assert.equal(files.hp12Info, join(SHARED_DATA, 'nb201', 'official', 'nb2_cf10_hp12_info.p'));
  assert.equal(files.testAccuracy, join(SHARED_DATA, 'nb201', 'official', 'nb2_im120_test_accuracy.p'));
  assert.equal(files.zeroCost, undefined);
  assert.equal(files.suiteZero, undefined, 'samples are not used in place of the full zc_nasbench201.json');
  const dir = tmp();
  mkdirSync(join(dir, 'nb201', 'official'), { recursive: true });
  symlinkSync(join(SHARED_DATA, 'nb201', 'official', 'nb2_cf10_hp12_info.p'), join(dir, 'nb2_cf10_hp12_info.p'));
  symlinkSync(join(SHARED_DATA, 'nb201', 'official', 'nb2_cf10_hp12_info.p'), join(dir, 'nb201', 'official', 'nb2_cf10_hp12_info.p'));
  assert.equal(findNb201Files(dir, 'cifar10').hp12Info, join(dir, 'nb201', 'official', 'nb2_cf10_hp12_info.p'));
  const o = join(SHARED_DATA, 'tnb101', 'official');
  assert.deepEqual(tnb101SuiteZeroCandidates(SHARED_DATA, 'micro', 'class_scene'), [
    join(o, 'zc_transbench101_micro_class_scene_2128.json'),
    join(o, 'zc_transbench101_micro_subset.json'),
  ]);
  assert.deepEqual(tnb101SuiteZeroCandidates(SHARED_DATA, 'macro', 'class_scene'), [join(o, 'zc_transbench101_macro_subset.json')]);
});
