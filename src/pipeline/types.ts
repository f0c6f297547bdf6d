import type { JobEvent } from '../runner/types.js';
import type { Schedule, SearchMethod } from '../search/types.js';
import type { SearchSpace } from '../spaces/types.js';
import type { DataInfo } from '../train/data.js';
import type { SearchExplanation } from '../search/explain.js';

export interface SearchOptions {
  space: 'nb201' | 'darts';
  dataset: string;
  /** Dataset folder (or file: npz, csv, idx). */
  dir?: string;
  /** Working image size (square) and channels; undefined: the images' own. */
  imageSize?: number;
  imageChannels?: 1 | 3;
  /** Candidate pool: a seeded sample of this many architectures, or the whole space (nb201 only). */
  pool: number | 'all';
  /** T: distinct architectures to train; 'all' trains the whole pool (exhaustive ground truth). */
  budget: number | 'all';
  /**
   * `robot-plus` (the CLI's default), `robot`, `rs`, `rea`, `reinforce`, `metric:<name>` (greedy on one metric's
   * ranking), or any SearchMethod object (a method of your own: it runs on the pool and queries through the ledger
   * like the others; settings.json records its name).
   */
  method: string | SearchMethod;
  metrics: string[];
  channels: number;
  cells: number;
  epochs: number;
  batchSize: number;
  lr: number;
  /** Images per metric-scoring batch. */
  scoreBatch: number;
  validFraction: number;
  trainLimit?: number;
  validLimit?: number;
  seed: number;
  /** Seed of the search method alone (default: seed). Pool, split and trainings depend on `seed` only, so
   *  searches with different search seeds share one pool and every training through the cache. */
  searchSeed?: number;
  out: string;
  /**
   * `out` is the default folder name, not one the user chose: when it holds a search with other settings (or
   * anything that is not a search), the first of `out-2`, `out-3`, … that is free or holds this same search is used
   * instead of refusing — so searches with different settings run one after another without naming folders.
   */
  outIsDefault?: boolean;
  /** Query cache file; null = no disk cache (memory only). */
  cache: string | null;
  /** Jobs (scorings, trainings) at once, on that many worker threads; 0 = one at a time in this thread. */
  parallel: number;
  /** Synchronous rounds (default; the result depends on seed and parallelism only) or asynchronous proposals. */
  schedule?: Schedule;
  /** Size and speed limits: candidates above any of them are removed from the pool before scoring. */
  limits?: PoolLimits;
}

export interface PoolLimits {
  maxParams?: number;
  /** Multiply-accumulates per image (conv + linear). */
  maxFlops?: number;
  /** Median batch-1 inference on this machine's engine, milliseconds. */
  maxLatency?: number;
}

export interface SearchHooks {
  /** One line of human-readable progress (the CLI prints it to stderr). */
  log?(message: string): void;
  /** Decoding the dataset into the image cache (first run only). */
  onDataProgress?(phase: string, done: number, total: number): void;
  onScoringStart?(total: number, todo: number): void;
  onScored?(done: number, total: number): void;
  onScoringEnd?(): void;
  /** Latency measurements of the pool (only with a latency limit, for candidates not cached yet). */
  onLatencyStart?(todo: number): void;
  onLatencyMeasured?(done: number, todo: number): void;
  onLatencyEnd?(): void;
  /** A training job's events (start, steps), by architecture. */
  onTrainEvent?(arch: string, e: JobEvent): void;
  /** A query is answered (in the order the search records it). */
  onQuery?(line: QueryLine, budget: number): void;
}

export interface QueryLine {
  /** 1-based order of the distinct query. */
  n: number;
  index: number;
  arch: string;
  validAccuracy: number;
  /** Seconds the training took (for a cached query: when it was trained). */
  seconds: number;
  /** Answered from the query cache. */
  cached: boolean;
  bestSoFar: number;
  /** The training diverged (non-finite or exploding loss, or chance accuracy after the first epoch). */
  diverged: boolean;
  key: string;
  details?: Record<string, unknown>;
}

/** A size (width C, depth N) of the answer's cell that fits the search's limits, with its cost (pipeline/suggest-size.ts). */
export interface SizeSuggestion {
  readonly channels: number;
  readonly cells: number;
  readonly params: number;
  readonly flops: number;
  readonly latencyMs?: number;
  /** The limits it was chosen under (what the user gave). */
  readonly limits: PoolLimits;
}

export interface SearchResult {
  method: string;
  space: string;
  best: { arch: string; index: number; validAccuracy: number; query: number; params: number; flops: number };
  /** The answer's validation images per true class: seen and correct (absent for trainings cached before it was recorded). */
  bestByClass?: { total: number[]; correct: number[] };
  /** Median batch-1 inference of the answer on this machine's engine, ms (a measurement: not part of the search's determinism). */
  bestLatencyMs: number;
  /** The limits given, the candidates before them and how many they removed (null without limits). */
  limits: (PoolLimits & { before: number; removed: number }) | null;
  /** The largest width and depth of the answer's cell within the limits (null without limits): search small, train large. */
  suggestedSize: SizeSuggestion | null;
  /** Queried architectures no other queried one beats on validation accuracy without more parameters, by size. */
  pareto: { arch: string; index: number; query: number; validAccuracy: number; params: number; flops: number }[];
  t0: number | null;
  weights: Record<string, number> | null;
  /**
   * Why this answer: the metrics the learned weights lean on, what each metric alone would have picked among the
   * queried architectures (by query number and validation accuracy), and where Bayesian optimisation ended.
   */
  explanation: SearchExplanation;
  queries: number;
  /** Σ seconds of the distinct queries (cached ones at their recorded cost). */
  totalCost: number;
  /** Seconds spent training in this process (0 when everything came from the cache). */
  freshTrainingSeconds: number;
  cacheHits: number;
  /** Queries whose training diverged, and why. */
  diverged: { query: number; arch: string; reason: string }[];
  /** Jobs at once, and how rounds were scheduled. */
  parallel: number;
  schedule: Schedule;
  /** Wall seconds of the query phase, and what the schedule of its recorded costs on `parallel` workers gives. */
  queryWallSeconds: number;
  scheduleSeconds: number;
  pool: { requested: number | 'all'; size: number; dropped: number; scoringSeconds: number; scoredNow: number; metrics: string[] };
  data: DataInfo;
  settings: Record<string, unknown>;
  seed: number;
  wallSeconds: number;
  files: Record<string, string>;
}

/** The six metrics of the RoBoT paper's NAS-Bench-201 experiments. */
export const SEARCH_METRICS = ['grad_norm', 'snip', 'grasp', 'fisher', 'synflow', 'jacob_cov'] as const;

/** Everything a search needs, checked: built from the options before any data is read. */
export interface SearchPlan {
  o: SearchOptions;
  method: SearchMethod;
  space: SearchSpace;
  out: string;
  /** Resolved cache file, or null for a memory-only cache. */
  cache: string | null;
  /** Folder of the image caches: beside the query cache (or in the output folder without one). */
  imageCache: string;
}
