/** Benchmark tables from Python pickles: a zero-cost-proxies release stream, or RoBoT's hp12 info list (robot-pickles.ts reads them). */
import { isDict, readPickleStreamFile } from '../formats/pickle.js';
import type { SearchSpace } from '../spaces/types.js';
import { inputError } from '../util/errors.js';
import { LAYOUT_HELP } from './datadir.js';
import { hp12FromValue, zeroCostFromValues, type ZeroCostStream } from './robot-pickles.js';
import { detectSpace, indexOf, makeBenchmark, nanArray, parseArchs, spaceFor, stem, taskFromFileName, type TableOptions } from './tables.js';
import type { Benchmark } from './types.js';

export function zeroCostMetrics(zc: ZeroCostStream, space: SearchSpace, index: ReadonlyMap<string, number>, metrics: Map<string, Float64Array>): void {
  const n = index.size;
  const archs = parseArchs(
    space,
    zc.records.map((r) => r.arch),
    zc.file,
    (i) => `record ${i + 1}`,
  );
  zc.records.forEach((r, j) => {
    const i = index.get(archs[j]!);
    if (i === undefined) return;
    for (const [m, v] of r.metrics) {
      let col = metrics.get(m);
      if (col === undefined) {
        col = nanArray(n);
        metrics.set(m, col);
      }
      col[i] = v;
    }
  });
}

export function loadPickleTable(file: string, opts: TableOptions): Benchmark {
  const items = readPickleStreamFile(file);
  const task = opts.task ?? taskFromFileName(file) ?? stem(file);
  const first = items[0];
  if (items.length === 1 && Array.isArray(first)) {
    if (first.length > 0 && !isDict(first[0])) {
      throw inputError(
        file,
        undefined,
        'this pickle is a plain list of values by NAS-Bench-201 index (e.g. RoBoT\'s test accuracies) with no architectures; ' +
          'load it from a data folder instead (--data DIR):\n' +
          LAYOUT_HELP,
      );
    }
    // RoBoT's hp12 info: objective = final = valacc, cost = cost
    const info = hp12FromValue(first, file);
    const id = opts.benchmark ?? detectSpace(info.archs, file, (i) => `entry ${i}`);
    const space = spaceFor(id);
    const archs = parseArchs(space, info.archs, file, (i) => `entry ${i}`);
    return makeBenchmark({
      benchmark: id,
      task,
      space,
      sources: [file],
      archs,
      objective: info.valacc,
      cost: info.cost.map((c) => (Number.isNaN(c) ? 0 : c)),
      final: info.valacc,
      metrics: new Map(),
      objectiveName: 'valacc',
      finalName: 'valacc',
    });
  }
  const zc = zeroCostFromValues(items, file);
  const raw = zc.records.map((r) => r.arch);
  const id = opts.benchmark ?? detectSpace(raw, file, (i) => `record ${i + 1}`);
  const space = spaceFor(id);
  const archs = parseArchs(space, raw, file, (i) => `record ${i + 1}`);
  const metrics = new Map<string, Float64Array>();
  zeroCostMetrics(zc, space, indexOf(archs), metrics);
  return makeBenchmark({
    benchmark: id,
    task,
    space,
    sources: [file],
    archs,
    objective: Float64Array.from(zc.records, (r) => r.valacc),
    cost: new Float64Array(archs.length),
    final: Float64Array.from(zc.records, (r) => r.testacc),
    metrics,
    objectiveName: 'valacc',
    finalName: 'testacc',
  });
}
