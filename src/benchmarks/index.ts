export type { Benchmark } from './types.js';
export {
  BENCHMARK_IDS,
  TASKS,
  availableMetrics,
  checkTask,
  loadBenchmark,
  loadTable,
  requireMetrics,
  type BenchmarkId,
  type LoadOptions,
} from './load.js';
export { LAYOUT_HELP, packageRoot, resolveDataDir } from './datadir.js';
export { parseCsv, readCsvFile, type CsvTable } from '../formats/csv.js';
export { parseSuiteZero, readSuiteZeroFile, type SzEntry, type SzFile, type SzTask } from './suitezero.js';
export { readPickleFile, readPickleStreamFile, unpickle, unpickleStream, pyNumber, NumpyArray, NumpyDType, PyObject } from '../formats/pickle.js';
export { readHp12Info, readTestAccuracy, readZeroCostStream, type Hp12Info, type ZeroCostRecord, type ZeroCostStream } from './robot-pickles.js';
