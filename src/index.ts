/**
 * robot-nas public API: what a user of the library needs, grouped as in the README's "Library" section. Everything
 * else is internal (scripts and tests import it from its module under src/).
 */

// Searching on real data: the `search` and `train` commands without the console.
export { runSearch, SEARCH_METRICS, type SearchOptions, type SearchResult, type SearchHooks, type SearchServices, type QueryLine, type PoolLimits } from './pipeline/search.js';
export { trainArchitecture, type TrainRequest, type TrainRequestHooks, type TrainRun } from './pipeline/train.js';

// Search methods: every SearchMethod runs on any pool and queries through a QueryLedger; write your own with keepBusy.
export { createRobot, type RobotOptions } from './search/robot.js';
export { createRobotPlus, type RobotPlusOptions } from './search/robot-plus.js';
export { randomSearch } from './search/random.js';
export { createRea, type ReaOptions } from './search/rea.js';
export { createReinforce, type ReinforceOptions } from './search/reinforce.js';
export { createSingleMetric, createGreedyMetric } from './search/training-free.js';
export { METHOD_IDS, createMethod, type MethodId } from './search/registry.js';
export { keepBusy } from './search/schedule.js';
export { makePool, type Pool, type SearchContext, type SearchMethod, type SearchOutcome, type Schedule } from './search/types.js';
export type { NormaliseKind } from './search/normalise.js';

// Objectives: what a query returns, with caching and cost accounting.
export type { Objective, Evaluation } from './objective/types.js';
export { QueryLedger, type QueryRecord } from './objective/ledger.js';
export { TabularObjective } from './objective/tabular.js';
export { JobObjective, type JobObjectiveOptions, type QueryEvent, type QueryValue } from './objective/jobs.js';

// Search spaces.
export { getSpace, SPACES, nb201Space, tnb101MicroSpace, tnb101MacroSpace, dartsSpace, type SearchSpace } from './spaces/index.js';

// Tabular benchmarks and experiments over seeds (the paper's tables).
export { loadBenchmark, loadTable, requireMetrics, BENCHMARK_IDS, TASKS, type BenchmarkId, type LoadOptions } from './benchmarks/load.js';
export type { Benchmark } from './benchmarks/types.js';
export { buildPool, type BenchmarkPool, type PoolRule } from './experiments/pool.js';
export { runExperiment, type ExperimentOptions, type ExperimentResult, type RunResult } from './experiments/run.js';
export { TABLES, runTable, tableMarkdown, type TableSpec, type TableResult } from './experiments/tables.js';

// Training-free metrics (scoring).
export { computeProxies, METRIC_NAMES, PAPER_METRICS, type MetricName, type ProxyResult } from './proxies/index.js';
export { scoreArchitecture, type ScoringSpec, type ScoringResult } from './proxies/spec.js';

// Networks, data and training.
export { initEngine, type EngineInfo, type EngineOptions, type KernelBackend } from './engine/index.js';
export { buildNb201, buildDarts, initParams, countParams, type Network } from './networks/index.js';
export { buildNetwork, type NetworkSize } from './networks/build.js';
export { loadDataset, openPart, datasetParts, DATASET_NAMES, type DatasetName, type ImageDataset, type ImageSet } from './data/index.js';
export { prepareData, type DataOptions, type DataInfo, type PreparedData } from './train/data.js';
export { trainNetwork, DARTS_TRAINING, type TrainSettings, type TrainResult } from './train/trainer.js';
export { augmentFor, type AugmentOptions } from './train/augment.js';
export { trainingSeed } from './util/seeds.js';
export { Rng } from './util/rng.js';

// Saved models and export.
export { saveModel, loadModel, architectureCost, measureLatency, type ModelCard, type ModelToSave, type LoadedModel, type ArchitectureCost, type Latency } from './model/index.js';
export { exportModel, EXPORT_FORMATS, type ExportFormat, type ExportBundle } from './export/index.js';

// Jobs, runners and result stores: where queries run and where their results are kept.
export { jobExecutor, scoringJob, trainingJob, type Job, type JobResult, type ScoringJob, type TrainingJob, type TableCellJob } from './jobs/index.js';
export { localRunner, inProcessRunner, workerThreadRunner, type Runner, type RunOptions, type JobEvent, type Executor, type JobContext } from './runner/index.js';
export { openQueueRunner, type QueueRunner, type QueueRunnerOptions } from './runner/queue.js';
export { startQueueWorker, type QueueWorker, type QueueWorkerOptions } from './runner/queue-worker.js';
export { parseQueueUrl, checkRedis, type QueueTarget } from './runner/queue-connection.js';
export { JsonlStore } from './store/jsonl.js';
export { MemoryStore } from './store/memory.js';
export type { ResultStore, StoredResult, Claim } from './store/types.js';
export { dataRefOf, type DataRef, type TrainingOutcome } from './train/spec.js';

// Errors a caller catches: bad input (exit 2 in the CLI), a bad setting (names it), a bad architecture string,
// a training whose data differ from its job's, a cancelled job.
export { InputError, SettingError } from './util/errors.js';
export { SpaceError } from './spaces/types.js';
export { DataMismatchError } from './train/spec.js';
export { CancelledError } from './runner/types.js';
