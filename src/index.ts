/**
 * robot-nas public API. Everything the CLI does is available here as typed functions:
 * load a benchmark, build a pool, run RoBoT or a baseline, aggregate over seeds.
 */
export { InputError } from './util/errors.js';
export { Rng } from './util/rng.js';
export { mean, std, stderr, spearman } from './util/stats.js';

export { type SearchSpace, SpaceError } from './spaces/types.js';
export { getSpace, SPACES, nb201Space, tnb101MicroSpace, tnb101MacroSpace, nb201FromTuple, nb201ToTuple, nb201FromOps, nb201ToOps } from './spaces/index.js';

export type { Benchmark } from './benchmarks/types.js';
export { loadBenchmark, loadTable, requireMetrics, resolveDataDir, TASKS, BENCHMARK_IDS, type BenchmarkId, type LoadOptions } from './benchmarks/index.js';

export type { Objective, Evaluation } from './objective/types.js';
export { QueryLedger, type QueryRecord } from './objective/ledger.js';
export { TabularObjective } from './objective/tabular.js';
export { JobObjective, type JobObjectiveOptions, type QueryEvent, type QueryValue } from './objective/jobs.js';
export { queryKey } from './util/key.js';
export { deriveSeed, seedStreams, trainingSeed, trainingStreams } from './util/seeds.js';

export type { ResultStore, StoredResult, Claim } from './store/types.js';
export { JsonlStore } from './store/jsonl.js';
export { MemoryStore } from './store/memory.js';
export { localRunner, inProcessRunner, workerThreadRunner, CancelledError, type Runner, type RunOptions, type JobEvent, type Executor } from './runner/index.js';
export { jobExecutor, scoringJob, trainingJob, tableCellJob, trainingJobKey, type Job, type JobResult, type ScoringJob, type TrainingJob, type TableCellJob } from './jobs/index.js';
export { openQueueRunner, type QueueRunner, type QueueRunnerOptions, type QueueRunnerStats } from './runner/queue.js';
export { startQueueWorker, type QueueWorker, type QueueWorkerOptions } from './runner/queue-worker.js';
export { queueStatus, type QueueStatus } from './runner/queue-status.js';
export { parseQueueUrl, checkRedis, type QueueTarget } from './runner/queue-connection.js';
export { dataRefOf, DataMismatchError, type TrainingOutcome, type DataRef } from './train/spec.js';
export type { ScoringResult } from './proxies/spec.js';

export { makePool, checkBudget, type Pool, type SearchContext, type SearchMethod, type SearchOutcome, type Schedule } from './search/types.js';
export { createRobot, type RobotOptions } from './search/robot.js';
export { randomSearch } from './search/random.js';
export { keepBusy } from './search/schedule.js';
export { createRea, type ReaOptions } from './search/rea.js';
export { createReinforce, type ReinforceOptions } from './search/reinforce.js';
export { createSingleMetric, createGreedyMetric, topByMetric } from './search/training-free.js';
export { normalise, NORMALISE_KINDS, type NormaliseKind } from './search/normalise.js';

export { GaussianProcess } from './gp/gp.js';
export { MT19937 } from './numpy/mt19937.js';
export { BayesOpt, type BayesOptOptions } from './gp/bayesopt.js';

export { buildPool, defaultMetrics, finalRank, type BenchmarkPool, type PoolRule } from './experiments/pool.js';
export { runExperiment, runOnce, type ExperimentOptions, type ExperimentResult, type RunResult } from './experiments/run.js';
export { METHOD_IDS, createMethod, searchMethod, type MethodId } from './search/registry.js';
export { paretoFront, type TradeOff } from './search/pareto.js';
export { TABLES, runTable, tableMarkdown, type TableSpec, type TableResult } from './experiments/tables.js';
export { renderCurvesSvg, type CurvePlot, type CurveSeries } from './plot/curves.js';

export { trainNetwork, evaluateAccuracy, DARTS_TRAINING, type TrainSettings, type TrainResult, type TrainData } from './train/trainer.js';
export { prepareData, type DataOptions, type DataInfo, type PreparedData } from './train/data.js';
export { Sgd, cosineLr, clipGradNorm } from './train/optim.js';
export { augmentBatch, augmentFor, type AugmentOptions } from './train/augment.js';
export { runSearch, SEARCH_METRICS, type SearchOptions, type SearchResult, type SearchHooks, type SearchServices, type QueryLine, type PoolLimits } from './pipeline/search.js';
export { buildNetwork, type NetworkSize } from './nn/build.js';
export { initBackend, buildNb201, buildDarts, initParams, countParams, type Network } from './nn/index.js';
export { computeProxies, METRIC_NAMES, PAPER_METRICS, type MetricName } from './proxies/index.js';
export { loadDataset, splitDataset, DATASET_NAMES, type ImageDataset } from './data/index.js';

export { saveModel, loadModel, checkModelDestination, parseCard, preprocessFiles, architectureCost, measureLatency, buildSpecNetwork, encodeSafetensors, decodeSafetensors, MODEL_FORMAT_VERSION, type ModelCard, type ModelToSave, type LoadedModel, type NetworkSpec, type ArchitectureCost, type Latency, type LatencyOptions } from './model/index.js';
export { exportModel, exportOnnx, exportTfjs, exportPytorch, traceNetwork, EXPORT_FORMATS, type ExportFormat, type ExportBundle } from './export/index.js';
