/**
 * A search on real data, end to end, with its files: choose the candidate pool, score it with the
 * training-free metrics (resumable CSV, reused when already computed for the same pool and settings), run a
 * search method whose queries train architectures (cached on disk), and write the results to the output
 * folder as they come:
 *
 *   settings.json   what the run depends on (a rerun with other settings in the same folder is refused)
 *   metrics.csv     the pool's metric values, one row per architecture (scored into a table shared next to
 *                   the query cache, so other searches with the same scoring settings reuse every row)
 *   queries.jsonl   one line per distinct query, appended as it finishes
 *   result.json     the answer, T0, costs, learned weights, settings, data split (written at the end)
 *   search-curve.svg  every query's validation accuracy and the best so far vs number of queries, T0 marked
 *
 * Interrupting and rerunning the same command resumes: metric rows already in the CSV are not recomputed
 * and trained architectures come from the query cache, so the rerun replays the finished part in seconds.
 * This module is the I/O edge of the search; the search methods themselves stay pure.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, appendFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Split } from '../data/types.js';
import { createMethod, isMethodId } from '../experiments/methods.js';
import { QueryLedger } from '../objective/ledger.js';
import { QueryCache, queryKey } from '../objective/query-cache.js';
import { createTrainingObjective, type TrainingQuerySettings } from '../objective/training.js';
import { renderSearchSvg } from '../plot/search.js';
import { runProxyBatch, selectArchs, type BatchSummary } from '../proxies/batch.js';
import { toJobValue } from '../proxies/job.js';
import { formatRow, readResults } from '../proxies/results.js';
import { createGreedyMetric } from '../search/training-free.js';
import { makePool, type SearchMethod } from '../search/types.js';
import { getSpace } from '../spaces/index.js';
import { prepareData, trainSplitOf, type DataInfo, type PreparedData } from '../train/data.js';
import { augmentFor } from '../train/augment.js';
import { DARTS_TRAINING, type TrainHooks, type TrainSettings } from '../train/trainer.js';
import { InputError, inputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';

export interface SearchOptions {
  space: 'nb201' | 'darts';
  dataset: string;
  /** Dataset folder. */
  dir?: string;
  /** Candidate pool: a seeded sample of this many architectures, or the whole space (nb201 only). */
  pool: number | 'all';
  /** T: distinct architectures to train; 'all' trains the whole pool (exhaustive ground truth). */
  budget: number | 'all';
  /** `robot` (default), `rs`, `rea`, `reinforce`, or `metric:<name>` (greedy on one metric's ranking). */
  method: string;
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
  /** Query cache file; null = no disk cache (memory only). */
  cache: string | null;
  /** Worker threads for metric scoring (0 = in this thread). */
  workers: number;
}

export interface SearchHooks {
  /** One line of human-readable progress (the CLI prints it to stderr). */
  log?(message: string): void;
  onScoringStart?(total: number, todo: number): void;
  onScored?(done: number, total: number): void;
  onScoringEnd?(): void;
  /** A fresh training starts (query number q of the budget). */
  onTrainStart?(arch: string, q: number, budget: number): void;
  onTrainStep?: TrainHooks['onStep'];
  onTrainEnd?(): void;
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
  key: string;
  details?: Record<string, unknown>;
}

export interface SearchResult {
  method: string;
  space: string;
  best: { arch: string; index: number; validAccuracy: number; query: number };
  t0: number | null;
  weights: Record<string, number> | null;
  queries: number;
  /** Σ seconds of the distinct queries (cached ones at their recorded cost). */
  totalCost: number;
  /** Seconds spent training in this process (0 when everything came from the cache). */
  freshTrainingSeconds: number;
  cacheHits: number;
  pool: { requested: number | 'all'; size: number; dropped: number; scoringSeconds: number; scoredNow: number; metrics: string[] };
  data: DataInfo;
  settings: Record<string, unknown>;
  seed: number;
  wallSeconds: number;
  files: Record<string, string>;
}

/** The six metrics of the RoBoT paper's NAS-Bench-201 experiments. */
export const SEARCH_METRICS = ['grad_norm', 'snip', 'grasp', 'fisher', 'synflow', 'jacob_cov'] as const;

/** The search method for `--method`. */
export function searchMethod(id: string, metrics: readonly string[]): SearchMethod {
  if (id.startsWith('metric:')) {
    const m = id.slice('metric:'.length);
    if (!metrics.includes(m)) throw new InputError(`--method ${id}: '${m}' is not one of the scored metrics (${metrics.join(', ')})`);
    return createGreedyMetric(m);
  }
  if (!isMethodId(id) || id === 'tf-avg' || id === 'tf-best') {
    throw new InputError(`--method ${id}: expected robot, rs, rea, reinforce or metric:<name>`);
  }
  return createMethod(id, { metrics, normalise: 'minmax', acquisition: 'ucb' });
}

function trainSettings(o: SearchOptions, info: DataInfo): TrainSettings {
  return {
    ...DARTS_TRAINING,
    lr: o.lr,
    epochs: o.epochs,
    batchSize: o.batchSize,
    augment: augmentFor(o.dataset, info.mean, info.std, info.shape[1]),
  };
}

/** settings.json: refuse to mix runs with different settings in one folder. */
function checkSettings(file: string, settings: Record<string, unknown>): void {
  if (existsSync(file)) {
    let old: Record<string, unknown>;
    try {
      old = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw inputError(file, undefined, `unreadable settings (${(e as Error).message}); delete the folder's files to start over`);
    }
    const diffs = Object.keys({ ...old, ...settings })
      .filter((k) => JSON.stringify(old[k]) !== JSON.stringify(settings[k]))
      .map((k) => `${k}: ${JSON.stringify(old[k])} (now ${JSON.stringify(settings[k])})`);
    if (diffs.length > 0) {
      throw new InputError(`${file}: this folder holds a search with other settings — ${diffs.join('; ')}. Use another --out, or the same settings to resume.`);
    }
  }
  writeFileSync(file, JSON.stringify(settings, null, 2) + '\n');
}

/** Keys already logged in queries.jsonl (a torn last line is cut off so appends stay well-formed). */
function loggedKeys(file: string): Set<string> {
  const keys = new Set<string>();
  if (!existsSync(file)) return keys;
  const text = readFileSync(file, 'utf8');
  // After the last newline there is either nothing or a torn write.
  const complete = text.split('\n').slice(0, -1);
  const good: string[] = [];
  for (const line of complete) {
    try {
      const rec = JSON.parse(line) as { key?: unknown };
      if (typeof rec.key === 'string') {
        keys.add(rec.key);
        good.push(line);
      }
    } catch {
      // a line that does not parse can only be a torn write: dropped below
    }
  }
  const repaired = good.map((l) => l + '\n').join('');
  if (repaired !== text) writeFileSync(file, repaired);
  return keys;
}

/** Writes a file atomically (temp + rename), so a crash never leaves a half-written result. */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** Runs a search (see the module comment). */
export async function runSearch(o: SearchOptions, hooks: SearchHooks = {}): Promise<SearchResult> {
  const t0 = performance.now();
  const log = (m: string): void => hooks.log?.(m);
  if (o.space !== 'nb201' && o.space !== 'darts') throw new InputError(`--space ${String(o.space)}: expected nb201 or darts`);
  if (o.budget !== 'all' && !(Number.isInteger(o.budget) && o.budget >= 1)) throw new InputError(`--budget must be a positive integer, got ${o.budget}`);
  if (o.metrics.length === 0) throw new InputError('--metrics: at least one metric is needed');
  const method = searchMethod(o.method, o.metrics);
  const space = getSpace(o.space);
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });

  const data: PreparedData = prepareData({
    dataset: o.dataset,
    ...(o.dir !== undefined ? { dir: o.dir } : {}),
    validFraction: o.validFraction,
    ...(o.trainLimit !== undefined ? { trainLimit: o.trainLimit } : {}),
    ...(o.validLimit !== undefined ? { validLimit: o.validLimit } : {}),
    seed: o.seed,
  });
  const info = data.info;
  log(
    `data: ${info.dataset} ${info.shape.join('×')}, ${info.classes} classes — ${info.trainCount} train / ${info.validCount} validation images ` +
      `(split seed ${info.splitSeed}, fingerprint ${info.fingerprint})`,
  );
  const train = trainSettings(o, info);
  const settings: Record<string, unknown> = {
    space: o.space,
    dataset: o.dataset,
    dir: o.dir ?? null,
    pool: o.pool,
    budget: o.budget,
    method: o.method,
    metrics: o.metrics,
    channels: o.channels,
    cells: o.cells,
    scoreBatch: o.scoreBatch,
    validFraction: o.validFraction,
    trainLimit: o.trainLimit ?? null,
    validLimit: o.validLimit ?? null,
    seed: o.seed,
    searchSeed: o.searchSeed ?? o.seed,
    training: train,
  };
  checkSettings(join(out, 'settings.json'), settings);

  // 1. Pool and metrics.
  const archs = selectArchs(space, o.pool === 'all' ? { kind: 'all' } : { kind: 'sample', n: o.pool }, o.seed);
  const split: Split | undefined = trainSplitOf(o.dataset, o.dir);
  // The scored table is shared by every search with the same scoring settings (any pool: rows are per architecture).
  const scoringKey = queryKey({
    kind: 'metrics',
    space: o.space,
    dataset: o.dataset,
    dir: o.dir === undefined ? null : resolve(o.dir),
    split: split ?? null,
    channels: o.channels,
    cells: o.cells,
    batch: o.scoreBatch,
    seed: o.seed,
    metrics: o.metrics,
  }).slice(0, 16);
  const metricsFile = o.cache === null ? join(out, 'metrics-table.csv') : join(dirname(resolve(o.cache)), `metrics-${scoringKey}.csv`);
  const scoring: BatchSummary = await runProxyBatch({
    space: o.space,
    archs: { kind: 'list', archs },
    dataset: o.dataset,
    ...(o.dir !== undefined ? { dir: o.dir } : {}),
    ...(split !== undefined ? { split } : {}),
    metrics: o.metrics,
    channels: o.channels,
    cells: o.cells,
    batch: o.scoreBatch,
    seed: o.seed,
    workers: o.workers,
    out: metricsFile,
    onStart: (s) => {
      log(`pool: ${s.total} ${o.space} architectures; metrics ${o.metrics.join(', ')} — ${s.resumed} already in ${metricsFile}, ${s.todo} to score` + (s.todo > 0 ? ` (${s.workers || 1} worker${s.workers > 1 ? 's' : ''})` : ''));
      hooks.onScoringStart?.(s.total, s.todo);
    },
    onResult: (_r, done, total) => hooks.onScored?.(done, total),
  });
  hooks.onScoringEnd?.();
  const table = readResults(metricsFile, space);
  const poolMetrics = join(out, 'metrics.csv');
  // The pool's rows, written by the shared table's own row formatter.
  const poolRows = archs
    .filter((a) => table.rows.has(a))
    .map((a) => {
      const row = table.rows.get(a)!;
      return formatRow(table.header, {
        arch: a,
        values: Object.fromEntries(o.metrics.map((m) => [m, toJobValue(row[m])])),
        ...(row.ln_synflow !== undefined ? { ln_synflow: toJobValue(row.ln_synflow) } : {}),
        seconds: row.seconds,
      });
    });
  writeAtomic(poolMetrics, table.header.join(',') + '\n' + poolRows.join(''));
  const complete = archs.filter((a) => {
    const row = table.rows.get(a);
    return row !== undefined && o.metrics.every((m) => Number.isFinite(row[m]));
  });
  const dropped = archs.length - complete.length;
  if (dropped > 0) log(`pool: ${dropped} architecture(s) dropped for a non-finite metric value`);
  if (complete.length === 0) throw new InputError('no architecture of the pool has finite values for every metric');
  const metricCols = new Map(o.metrics.map((m) => [m, Float64Array.from(complete, (a) => table.rows.get(a)![m])]));
  const pool = makePool(space, complete, metricCols);
  if (o.budget !== 'all' && o.budget > pool.archs.length) throw new InputError(`--budget ${o.budget} exceeds the pool of ${pool.archs.length} architectures`);
  const budget = o.budget === 'all' ? pool.archs.length : o.budget;

  // 2. Queries: training, cached on disk, logged to queries.jsonl.
  const queriesFile = join(out, 'queries.jsonl');
  const logged = loggedKeys(queriesFile);
  const cache = o.cache === null ? QueryCache.memory() : QueryCache.open(resolve(o.cache));
  const query: TrainingQuerySettings = { space: o.space, channels: o.channels, cells: o.cells, train, seed: o.seed };
  const lines: QueryLine[] = [];
  let best = -Infinity;
  const objective = createTrainingObjective({
    archs: pool.archs,
    data,
    settings: query,
    cache,
    onTrainStart: (arch) => hooks.onTrainStart?.(arch, lines.length + 1, budget),
    hooks: { onStep: hooks.onTrainStep },
    onQuery: (e) => {
      hooks.onTrainEnd?.();
      best = Math.max(best, e.value);
      const line: QueryLine = {
        n: lines.length + 1,
        index: e.index,
        arch: e.arch,
        validAccuracy: e.value,
        seconds: e.cost,
        cached: e.cached,
        bestSoFar: best,
        key: e.key,
        ...(e.details !== undefined ? { details: e.details } : {}),
      };
      lines.push(line);
      if (!logged.has(e.key)) {
        appendFileSync(queriesFile, JSON.stringify(line) + '\n');
        logged.add(e.key);
      }
      log(
        `query ${String(line.n).padStart(String(budget).length)}/${budget}  val ${e.value.toFixed(2)}%  ` +
          `${e.cached ? 'cached' : `${e.cost.toFixed(1)} s`}  best ${best.toFixed(2)}%  ${e.arch}`,
      );
    },
  });
  const ledger = new QueryLedger(objective);
  const searchSeed = o.searchSeed ?? o.seed;
  const outcome = await method.run({ pool, ledger, budget, rng: new Rng(searchSeed), seed: searchSeed });

  // 3. Results.
  const bestIndex = outcome.best;
  const bestLine = lines.find((l) => l.index === bestIndex);
  if (!bestLine) throw new Error(`search returned pool index ${bestIndex}, which it never queried`);
  const files = {
    settings: join(out, 'settings.json'),
    metrics: poolMetrics,
    metricsTable: metricsFile,
    queries: queriesFile,
    result: join(out, 'result.json'),
    curve: join(out, 'search-curve.svg'),
    ...(o.cache !== null ? { cache: resolve(o.cache) } : {}),
  };
  const svg = await renderSearchSvg({
    title: `${method.name} on ${o.dataset} (${o.space}, pool ${pool.archs.length}, T = ${budget}, seed ${searchSeed})`,
    yTitle: 'validation accuracy (%)',
    points: lines.map((l) => ({ n: l.n, value: l.validAccuracy, bestSoFar: l.bestSoFar })),
    ...(outcome.t0 !== undefined ? { t0: outcome.t0 } : {}),
  });
  writeAtomic(files.curve, svg);
  const result: SearchResult = {
    method: method.name,
    space: o.space,
    best: { arch: bestLine.arch, index: bestIndex, validAccuracy: bestLine.validAccuracy, query: bestLine.n },
    t0: outcome.t0 ?? null,
    weights: outcome.weights ? { ...outcome.weights } : null,
    queries: ledger.count,
    totalCost: ledger.cost,
    freshTrainingSeconds: objective.freshSeconds,
    cacheHits: objective.hits,
    pool: {
      requested: o.pool,
      size: pool.archs.length,
      dropped,
      scoringSeconds: scoring.seconds,
      scoredNow: scoring.computed,
      metrics: o.metrics,
    },
    data: info,
    settings,
    seed: o.seed,
    wallSeconds: (performance.now() - t0) / 1000,
    files,
  };
  writeAtomic(files.result, JSON.stringify(result, null, 2) + '\n');
  return result;
}
