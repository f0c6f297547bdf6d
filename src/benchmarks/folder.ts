/**
 * Benchmarks from the data folder's own files (datadir.ts finds them): NAS-Bench-201 from the official pickles (with the
 * zero-cost and Suite-Zero metrics beside them), TransNAS-Bench-101 from its CSV plus the Suite-Zero json, or the json alone.
 */
import { InputError, inputError } from '../util/errors.js';
import { loadTnb101Csv } from './csv-table.js';
import { LAYOUT_HELP, NB201_FILE_TASK, findNb201Files, nb201OfficialDirs, tnb101CsvPath, tnb101SuiteZeroCandidates } from './datadir.js';
import { readCsvFile } from '../formats/csv.js';
import { readHp12Info, readTestAccuracy, readZeroCostStream } from './robot-pickles.js';
import { zeroCostMetrics } from './pickle-table.js';
import { readSuiteZeroFile } from './suitezero.js';
import { loadSuiteZeroTable, mergeSuiteZero, szTaskFor } from './suitezero-table.js';
import { indexOf, makeBenchmark, parseArchs, spaceFor } from './tables.js';
import type { Benchmark } from './types.js';

export function loadNb201Official(dataDir: string, task: string, objective: 'paper' | 'task', files: ReturnType<typeof findNb201Files>): Benchmark {
  const t = NB201_FILE_TASK[task]!;
  const where = nb201OfficialDirs(dataDir).join(', ');
  if (files.hp12Info === undefined || files.testAccuracy === undefined) {
    const missing = [files.hp12Info ? undefined : 'nb2_cf10_hp12_info.p', files.testAccuracy ? undefined : `nb2_${t}_test_accuracy.p`].filter(
      (x) => x !== undefined,
    );
    throw new InputError(
      `no NAS-Bench-201 data for ${task} in ${dataDir}: expected ${dataDir}/nb201/${task}.csv, or the official files ` +
        `nb2_cf10_hp12_info.p and nb2_${t}_test_accuracy.p in one of ${where} (missing: ${missing.join(', ')}).\n${LAYOUT_HELP}`,
    );
  }
  if (objective === 'task') {
    throw new InputError(
      `objective 'task' (the task's own 12-epoch accuracy and time) needs ${dataDir}/nb201/${task}.csv; ` +
        `the official files (${files.hp12Info}) only hold the paper's CIFAR-10 12-epoch values (objective 'paper')`,
    );
  }
  const space = spaceFor('nb201');
  const info = readHp12Info(files.hp12Info);
  const archs = parseArchs(space, info.archs, files.hp12Info, (i) => `entry ${i}`);
  const test = readTestAccuracy(files.testAccuracy);
  if (test.length !== archs.length) {
    throw inputError(
      files.testAccuracy,
      undefined,
      `has ${test.length} test accuracies, but ${files.hp12Info} has ${archs.length} architectures (both are indexed by NAS-Bench-201 index)`,
    );
  }
  const sources = [files.hp12Info, files.testAccuracy];
  const index = indexOf(archs);
  const metrics = new Map<string, Float64Array>();
  if (files.zeroCost !== undefined) {
    zeroCostMetrics(readZeroCostStream(files.zeroCost), space, index, metrics);
    sources.push(files.zeroCost);
  }
  if (files.suiteZero !== undefined) {
    const sz = readSuiteZeroFile(files.suiteZero);
    const szTask = szTaskFor(sz, task);
    if (szTask !== undefined) {
      mergeSuiteZero(szTask, files.suiteZero, space, index, metrics, 'sz.');
      sources.push(files.suiteZero);
    }
  }
  return makeBenchmark({
    benchmark: 'nb201',
    task,
    space,
    sources,
    archs,
    objective: info.valacc,
    cost: info.cost.map((c) => (Number.isNaN(c) ? 0 : c)),
    final: test,
    metrics,
    objectiveName: 'hp12_valid_acc',
    finalName: 'test_acc',
  });
}

export function loadTnb101Folder(dataDir: string, id: 'tnb101-micro' | 'tnb101-macro', task: string): Benchmark {
  const kind = id === 'tnb101-micro' ? 'micro' : 'macro';
  const csv = tnb101CsvPath(dataDir, kind);
  if (csv === undefined) {
    // No converted table: a NAS-Bench-Suite-Zero release alone is a complete benchmark
    // (objective = final = val_accuracy), which is what the RoBoT reference reads.
    for (const file of tnb101SuiteZeroCandidates(dataDir, kind, task)) {
      const sz = readSuiteZeroFile(file);
      if (szTaskFor(sz, task) !== undefined) return loadSuiteZeroTable(file, { benchmark: id, task });
    }
    throw new InputError(
      `no TransNAS-Bench-101 ${kind} data for task '${task}' in ${dataDir}: expected ${dataDir}/tnb101/${kind}.csv or zc_transbench101_${kind}.json.\n${LAYOUT_HELP}`,
    );
  }
  const base = loadTnb101Csv(readCsvFile(csv), id, task);
  const metrics = new Map<string, Float64Array>();
  const sources = [csv];
  for (const file of tnb101SuiteZeroCandidates(dataDir, kind, task)) {
    const sz = readSuiteZeroFile(file);
    const szTask = szTaskFor(sz, task);
    if (szTask === undefined) continue;
    mergeSuiteZero(szTask, file, base.space, indexOf(base.archs), metrics, '');
    sources.push(file);
    break;
  }
  return makeBenchmark({ ...base, sources, metrics });
}
