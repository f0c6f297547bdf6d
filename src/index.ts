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
export { CachedObjective, type QueryRun, type QueryEvent } from './objective/cached.js';
export { QueryCache, queryKey, type CachedQuery } from './objective/query-cache.js';
export { createTrainingObjective, trainArchitecture, trainingKey, trainingSeed, type TrainingQuerySettings } from './objective/training.js';

export { makePool, type Pool, type SearchContext, type SearchMethod, type SearchOutcome } from './search/types.js';
export { createRobot, type RobotOptions } from './search/robot.js';
export { randomSearch } from './search/random.js';
export { createRea, type ReaOptions } from './search/rea.js';
export { createReinforce, type ReinforceOptions } from './search/reinforce.js';
export { createSingleMetric, createGreedyMetric, topByMetric } from './search/training-free.js';
export { normalise, NORMALISE_KINDS, type NormaliseKind } from './search/normalise.js';

export { GaussianProcess } from './gp/gp.js';
export { MT19937 } from './util/mt19937.js';
export { BayesOpt, type BayesOptOptions } from './gp/bayesopt.js';

export { buildPool, defaultMetrics, finalRank, type BenchmarkPool, type PoolRule } from './experiments/pool.js';
export { runExperiment, runOnce, type ExperimentOptions, type ExperimentResult, type RunResult } from './experiments/run.js';
export { METHOD_IDS, createMethod, type MethodId } from './experiments/methods.js';
export { TABLES, runTable, tableMarkdown, type TableSpec, type TableResult } from './experiments/tables.js';
export { renderCurvesSvg, type CurvePlot, type CurveSeries } from './plot/curves.js';

export { trainNetwork, evaluateAccuracy, DARTS_TRAINING, type TrainSettings, type TrainResult, type TrainData } from './train/trainer.js';
export { prepareData, type DataOptions, type DataInfo, type PreparedData } from './train/data.js';
export { Sgd, cosineLr, clipGradNorm } from './train/optim.js';
export { augmentBatch, augmentFor, type AugmentOptions } from './train/augment.js';
export { runSearch, SEARCH_METRICS, type SearchOptions, type SearchResult, type SearchHooks } from './pipeline/search.js';
export { initBackend, buildNb201, buildDarts, initParams, countParams, type Network } from './nn/index.js';
export { computeProxies, METRIC_NAMES, PAPER_METRICS, type MetricName } from './proxies/index.js';
export { loadDataset, splitDataset, DATASET_NAMES, type ImageDataset } from './data/index.js';

export { saveModel, loadModel, checkModelDestination, parseCard, preprocessFiles, architectureCost, measureLatency, buildSpecNetwork, encodeSafetensors, decodeSafetensors, MODEL_FORMAT_VERSION, type ModelCard, type ModelToSave, type LoadedModel, type NetworkSpec, type ArchitectureCost, type Latency, type LatencyOptions } from './model/index.js';
export { exportModel, exportOnnx, exportTfjs, exportPytorch, traceNetwork, EXPORT_FORMATS, type ExportFormat, type ExportBundle } from './export/index.js';
