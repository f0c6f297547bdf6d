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
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Split } from '../data/types.js';
import { createMethod, isMethodId } from '../experiments/methods.js';
import type { CachedObjective } from '../objective/cached.js';
import { QueryLedger } from '../objective/ledger.js';
import { QueryCache, queryKey } from '../objective/query-cache.js';
import { createTrainingObjective, type TrainingQuerySettings } from '../objective/training.js';
import { renderSearchSvg } from '../plot/search.js';
import { runProxyBatch, selectArchs, type BatchSummary } from '../proxies/batch.js';
import { toJobValue } from '../proxies/job.js';
import { formatRow, readResults } from '../proxies/results.js';
import { createGreedyMetric } from '../search/training-free.js';
import { checkBudget, makePool, type Pool, type SearchMethod, type SearchOutcome } from '../search/types.js';
import type { SearchSpace } from '../spaces/types.js';
import { getSpace } from '../spaces/index.js';
import { prepareData, trainSplitOf, type DataInfo, type PreparedData } from '../train/data.js';
import { augmentFor } from '../train/augment.js';
import { checkTrainSettings, DARTS_TRAINING, type TrainHooks, type TrainSettings } from '../train/trainer.js';
import { writeAtomic } from '../util/atomic.js';
import { InputError, inputError, SettingError } from '../util/errors.js';
import { checkOutputDir, checkOutputFile } from '../util/output-paths.js';
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
  /** The training diverged (non-finite or exploding loss, or chance accuracy after the first epoch). */
  diverged: boolean;
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
  /** Queries whose training diverged, and why. */
  diverged: { query: number; arch: string; reason: string }[];
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
    if (!metrics.includes(m)) throw new SettingError('method', `${id}: '${m}' is not one of the scored metrics (${metrics.join(', ')})`);
    return createGreedyMetric(m);
  }
  if (!isMethodId(id) || id === 'tf-avg' || id === 'tf-best') {
    throw new SettingError('method', `expected robot, rs, rea, reinforce or metric:<name>, got ${id}`);
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

/** The differences between the settings recorded in a folder and this run's (empty: same search). */
function settingsDiff(file: string, settings: Record<string, unknown>): string[] {
  if (!existsSync(file)) return [];
  let old: Record<string, unknown>;
  try {
    old = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw inputError(file, undefined, `unreadable settings (${(e as Error).message}); delete the folder's files to start over`);
  }
  return Object.keys({ ...old, ...settings })
    .filter((k) => JSON.stringify(old[k]) !== JSON.stringify(settings[k]))
    .map((k) => `${k}: ${JSON.stringify(old[k])} (now ${JSON.stringify(settings[k])})`);
}

/** A path as a user would type it: relative to the working folder when inside it. */
function shownPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
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
  if (repaired !== text) writeAtomic(file, repaired);
  return keys;
}

/** Everything a search needs, checked: built from the options before any data is read. */
interface SearchPlan {
  o: SearchOptions;
  method: SearchMethod;
  space: SearchSpace;
  out: string;
  /** Resolved cache file, or null for a memory-only cache. */
  cache: string | null;
}

/**
 * Step 1: every option checked without touching data — method, space, pool and budget sizes, the training
 * recipe, output paths. Impossible requests fail here, naming their setting (the CLI turns it into the flag).
 */
function planSearch(o: SearchOptions): SearchPlan {
  if (o.space !== 'nb201' && o.space !== 'darts') throw new SettingError('space', `expected nb201 or darts, got ${String(o.space)}`);
  if (o.metrics.length === 0) throw new SettingError('metrics', 'at least one metric is needed');
  const method = searchMethod(o.method, o.metrics);
  const space = getSpace(o.space);
  if (o.pool !== 'all' && !(Number.isInteger(o.pool) && o.pool >= 1)) throw new SettingError('pool', `expected a positive integer or all, got ${o.pool}`);
  // DARTS (~1e20 genotypes) can only be sampled.
  if (o.pool === 'all' && space.id === 'darts') throw new SettingError('pool', `all: the darts space has ~${space.size.toExponential(1)} architectures and cannot be enumerated; give a sample size`);
  const requested = o.pool === 'all' ? space.size : o.pool;
  if (requested > space.size) throw new SettingError('pool', `${requested} architectures requested, but the ${space.id} space has only ${space.size}`);
  if (o.budget !== 'all') checkBudget(requested, o.budget, 'the requested pool');
  for (const key of ['channels', 'cells', 'scoreBatch', 'workers'] as const) {
    const v = o[key];
    if (!(Number.isInteger(v) && v >= (key === 'workers' ? 0 : 1))) throw new SettingError(key, `expected a ${key === 'workers' ? 'non-negative' : 'positive'} integer, got ${v}`);
  }
  // The recipe without the data-derived augmentation: lr, epochs, batch size are checked before any data is read.
  checkTrainSettings({ ...DARTS_TRAINING, lr: o.lr, epochs: o.epochs, batchSize: o.batchSize, augment: null });
  checkOutputDir(o.out, 'out');
  if (o.cache !== null) checkOutputFile(o.cache, 'cache');
  return { o, method, space, out: resolve(o.out), cache: o.cache === null ? null : resolve(o.cache) };
}

/** Step 2: the data, and what can only be checked against it (classes, the scoring batch). */
function loadData(p: SearchPlan, log: (m: string) => void): PreparedData {
  const { o } = p;
  const data = prepareData({
    dataset: o.dataset,
    ...(o.dir !== undefined ? { dir: o.dir } : {}),
    validFraction: o.validFraction,
    ...(o.trainLimit !== undefined ? { trainLimit: o.trainLimit } : {}),
    ...(o.validLimit !== undefined ? { validLimit: o.validLimit } : {}),
    seed: o.seed,
  });
  const info = data.info;
  if (o.scoreBatch > info.trainCount) {
    throw new SettingError('scoreBatch', `${o.scoreBatch} images per scoring batch, but the training split has only ${info.trainCount}`);
  }
  log(
    `data: ${info.dataset} ${info.shape.join('×')}, ${info.classes} classes — ${info.trainCount} train / ${info.validCount} validation images ` +
      `(split seed ${info.splitSeed}, fingerprint ${info.fingerprint})`,
  );
  return data;
}

/** What the output folder's search depends on (settings.json). */
function searchSettings(o: SearchOptions, train: TrainSettings): Record<string, unknown> {
  return {
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
}

interface ScoredPool {
  archs: string[];
  pool: Pool;
  dropped: number;
  scoring: BatchSummary;
  metricsFile: string;
  /** The pool's rows of the shared table, ready for the folder's metrics.csv. */
  csv: string;
}

/**
 * Step 3: the pool and its metrics. The scored table is shared by every search with the same scoring settings
 * (rows are per architecture, any pool), named by their key so that no setting change can clash with it.
 * Architectures with a non-finite metric are dropped, and the budget is checked against what is left.
 */
async function scorePool(p: SearchPlan, data: PreparedData, hooks: SearchHooks): Promise<ScoredPool> {
  const { o, space } = p;
  const log = (m: string): void => hooks.log?.(m);
  const archs = selectArchs(space, o.pool === 'all' ? { kind: 'all' } : { kind: 'sample', n: o.pool }, o.seed, 'pool');
  const split: Split | undefined = trainSplitOf(o.dataset, o.dir);
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
  const metricsFile = join(p.cache === null ? p.out : dirname(p.cache), `metrics-${scoringKey}.csv`);
  const scoring = await runProxyBatch({
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
      log(`pool: ${s.total} ${o.space} architectures; metrics ${o.metrics.join(', ')} — ${s.resumed} already in ${shownPath(metricsFile)}, ${s.todo} to score` + (s.todo > 0 ? ` (${s.workers || 1} worker${s.workers > 1 ? 's' : ''})` : ''));
      hooks.onScoringStart?.(s.total, s.todo);
    },
    onResult: (_r, done, total) => hooks.onScored?.(done, total),
  });
  hooks.onScoringEnd?.();
  const table = readResults(metricsFile, space);
  const rows = archs
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
  const complete = archs.filter((a) => {
    const row = table.rows.get(a);
    return row !== undefined && o.metrics.every((m) => Number.isFinite(row[m]));
  });
  const dropped = archs.length - complete.length;
  if (dropped > 0) log(`pool: ${dropped} architecture(s) dropped for a non-finite metric value`);
  if (complete.length === 0) throw new InputError('no architecture of the pool has finite values for every metric');
  if (o.budget !== 'all') checkBudget(complete.length, o.budget, `the pool (${complete.length} of ${archs.length} architectures left after dropping non-finite metrics)`);
  const metricCols = new Map(o.metrics.map((m) => [m, Float64Array.from(complete, (a) => table.rows.get(a)![m])]));
  return { archs, pool: makePool(space, complete, metricCols), dropped, scoring, metricsFile, csv: table.header.join(',') + '\n' + rows.join('') };
}

interface QueriesDone {
  lines: QueryLine[];
  outcome: SearchOutcome;
  ledger: QueryLedger;
  objective: CachedObjective;
  budget: number;
}

/** Step 4: the search, each query a training (cached on disk), logged to queries.jsonl as it finishes. */
async function runQueries(p: SearchPlan, scored: ScoredPool, data: PreparedData, train: TrainSettings, hooks: SearchHooks): Promise<QueriesDone> {
  const { o, out } = p;
  const log = (m: string): void => hooks.log?.(m);
  const pool = scored.pool;
  const budget = o.budget === 'all' ? pool.archs.length : o.budget;
  const queriesFile = join(out, 'queries.jsonl');
  const logged = loggedKeys(queriesFile);
  const cache = p.cache === null ? QueryCache.memory() : QueryCache.open(p.cache);
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
      const divergence = typeof e.details?.divergence === 'string' ? e.details.divergence : undefined;
      const line: QueryLine = {
        n: lines.length + 1,
        index: e.index,
        arch: e.arch,
        validAccuracy: e.value,
        seconds: e.cost,
        cached: e.cached,
        bestSoFar: best,
        diverged: e.details?.diverged === true,
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
          `${e.cached ? 'cached' : `${e.cost.toFixed(1)} s`}  best ${best.toFixed(2)}%  ${e.arch}` +
          (line.diverged ? `  (diverged: ${divergence ?? 'yes'})` : ''),
      );
    },
  });
  const ledger = new QueryLedger(objective);
  const searchSeed = o.searchSeed ?? o.seed;
  const outcome = await p.method.run({ pool, ledger, budget, rng: new Rng(searchSeed), seed: searchSeed });
  return { lines, outcome, ledger, objective, budget };
}

/** Step 5: result.json and the search curve, written atomically. */
async function writeResults(p: SearchPlan, scored: ScoredPool, data: PreparedData, settings: Record<string, unknown>, q: QueriesDone, startMs: number): Promise<SearchResult> {
  const { o, out } = p;
  const bestIndex = q.outcome.best;
  const bestLine = q.lines.find((l) => l.index === bestIndex);
  if (!bestLine) throw new Error(`search returned pool index ${bestIndex}, which it never queried`);
  const files = {
    settings: join(out, 'settings.json'),
    metrics: join(out, 'metrics.csv'),
    metricsTable: scored.metricsFile,
    queries: join(out, 'queries.jsonl'),
    result: join(out, 'result.json'),
    curve: join(out, 'search-curve.svg'),
    ...(p.cache !== null ? { cache: p.cache } : {}),
  };
  const searchSeed = o.searchSeed ?? o.seed;
  const svg = await renderSearchSvg({
    title: `${p.method.name} on ${o.dataset} (${o.space}, pool ${scored.pool.archs.length}, T = ${q.budget}, seed ${searchSeed})`,
    yTitle: 'validation accuracy (%)',
    points: q.lines.map((l) => ({ n: l.n, value: l.validAccuracy, bestSoFar: l.bestSoFar })),
    ...(q.outcome.t0 !== undefined ? { t0: q.outcome.t0 } : {}),
  });
  writeAtomic(files.curve, svg);
  const result: SearchResult = {
    method: p.method.name,
    space: o.space,
    best: { arch: bestLine.arch, index: bestIndex, validAccuracy: bestLine.validAccuracy, query: bestLine.n },
    t0: q.outcome.t0 ?? null,
    weights: q.outcome.weights ? { ...q.outcome.weights } : null,
    queries: q.ledger.count,
    totalCost: q.ledger.cost,
    freshTrainingSeconds: q.objective.freshSeconds,
    cacheHits: q.objective.hits,
    diverged: q.lines.filter((l) => l.diverged).map((l) => ({ query: l.n, arch: l.arch, reason: String(l.details?.divergence ?? 'diverged') })),
    pool: {
      requested: o.pool,
      size: scored.pool.archs.length,
      dropped: scored.dropped,
      scoringSeconds: scored.scoring.seconds,
      scoredNow: scored.scoring.computed,
      metrics: o.metrics,
    },
    data: data.info,
    settings,
    seed: o.seed,
    wallSeconds: (performance.now() - startMs) / 1000,
    files,
  };
  writeAtomic(files.result, JSON.stringify(result, null, 2) + '\n');
  return result;
}

/**
 * Runs a search (see the module comment) as five steps: plan (every option checked), data, pool and metrics,
 * queries, results. The output folder is claimed (settings.json written) only once every check has passed,
 * so a refused run never blocks the corrected command.
 */
export async function runSearch(o: SearchOptions, hooks: SearchHooks = {}): Promise<SearchResult> {
  const startMs = performance.now();
  const log = (m: string): void => hooks.log?.(m);
  const plan = planSearch(o);
  const data = loadData(plan, log);
  const train = trainSettings(o, data.info);
  const settings = searchSettings(o, train);
  const settingsFile = join(plan.out, 'settings.json');
  const diffs = settingsDiff(settingsFile, settings);
  if (diffs.length > 0) {
    throw new InputError(`${settingsFile}: this folder holds a search with other settings — ${diffs.join('; ')}. Use another --out, or the same settings to resume.`);
  }
  const scored = await scorePool(plan, data, hooks);
  writeAtomic(settingsFile, JSON.stringify(settings, null, 2) + '\n');
  writeAtomic(join(plan.out, 'metrics.csv'), scored.csv);
  const queries = await runQueries(plan, scored, data, train, hooks);
  return writeResults(plan, scored, data, settings, queries, startMs);
}
