/**
 * Pools of real trainings with their ground truth, for the search evidence (and for anyone who needs real pools:
 * metric studies, comparisons with hand-made networks). A pool is the seeded candidate pool of `robot-nas search`
 * on one image set, every architecture trained once with exactly the job that search runs for it (the same
 * options go through the same pipeline, so the query-cache keys are the search's: a later search with the printed
 * flags and `--cache` answers from it), plus:
 *
 *   - the search's own metric tables (every metric the engine has, and the search's default set);
 *   - `table-p<P>.csv`: the pool as a benchmark table (`arch,valid_acc,cost,<metric…>` in the search's pool order),
 *     which `robot-nas bench --table` and src/experiments/replay.ts read;
 *   - training noise: a subset (the top architectures and a seeded sample of the others) trained again under other
 *     training seeds on the same split;
 *   - `pool-p<P>.json`: sizes, split, standard errors, noise, commands, CPU time.
 *
 * Everything lives in `<root>/<pool id>-<key>/`, the key hashing everything the trainings depend on (the data's
 * fingerprint and shape, split, network, recipe, training code version), so changed data or preprocessing starts a
 * new folder instead of reusing stale trainings. Reruns only compute what is missing (the query cache and the
 * metric tables resume).
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { SEARCH_DEFAULTS } from '../../src/cli/search.js';
import { JobObjective } from '../../src/objective/jobs.js';
import { loadData, planSearch, trainSettings } from '../../src/pipeline/plan.js';
import { trainingJobFor } from '../../src/pipeline/queries.js';
import { choosePool, scorePool } from '../../src/pipeline/score.js';
import { runSearch, SEARCH_METRICS, type SearchHooks, type SearchOptions } from '../../src/pipeline/search.js';
import { METRIC_NAMES } from '../../src/proxies/types.js';
import { readResults } from '../../src/proxies/results.js';
import { jobExecutor, trainingJobKey, type Job, type JobResult, type TrainingJob } from '../../src/jobs/index.js';
import { localRunner, type Runner } from '../../src/runner/index.js';
import { JsonlStore } from '../../src/store/jsonl.js';
import type { DataInfo } from '../../src/train/data.js';
import type { TrainingOutcome } from '../../src/train/spec.js';
import { TRAINING_CODE_VERSION } from '../../src/train/version.js';
import { writeAtomic } from '../../src/util/atomic.js';
import { queryKey } from '../../src/util/key.js';
import { Rng } from '../../src/util/rng.js';
import { deriveSeed } from '../../src/util/seeds.js';
import { ensureFashionFolder } from './fashion-folder.js';
import { poolTableCsv } from '../../src/experiments/pool-table.js';

export interface PoolSpec {
  /** Short name (folder prefix, report heading). */
  readonly id: string;
  readonly title: string;
  readonly dataset: string;
  /** For a folder dataset: makes (or finds) the folder under the results root and returns it. */
  readonly folder?: (root: string, log: (m: string) => void) => string;
  readonly validFraction: number;
  /** Training images (default: the search's default). */
  readonly trainLimit?: number;
  /** Undefined: every held-out image validates (`--valid-limit all`). */
  readonly validLimit?: number;
  readonly epochs: number;
  /** Architectures in the pool (the search's `--pool`). */
  readonly pool: number;
  /** Why these settings (for the report). */
  readonly note: string;
}

/**
 * The evidence pools. Pool size: 200, the default search's pool, so that T/pool is what a user's search faces (a
 * T = 10 random search then expects rank ≈ 200/11 ≈ 18). Validation sets of about 4,000 images where the data
 * allow: the binomial standard error at 90 % is then ≈ 0.5 points (1,000 images: ≈ 0.95), below the
 * seed-to-seed training noise the pools measure.
 */
export const POOL_SPECS: readonly PoolSpec[] = [
  {
    id: 'mnist',
    title: 'MNIST digits (the `mnist` package)',
    dataset: 'mnist',
    validFraction: 0.5,
    epochs: 1,
    pool: 200,
    note: "the default search's recipe (1 epoch on 4,000 digits), validated on the other half of the package's 7,996 training digits",
  },
  {
    id: 'cifar10-1k',
    title: 'CIFAR-10, the shared 1,000 images',
    dataset: 'cifar10-1k',
    validFraction: 0.5,
    epochs: 8,
    pool: 200,
    note: '500 train / 500 validation images (half each: the set is small), 8 epochs — the same 125 SGD steps as 1 epoch on 4,000 images',
  },
  {
    id: 'fashion',
    title: 'Fashion-MNIST as a PNG image folder (`--dataset folder`)',
    dataset: 'folder',
    folder: (root, log) => ensureFashionFolder(join(root, 'data', 'fashion-mnist-png'), log),
    validFraction: 0.5,
    epochs: 1,
    pool: 200,
    note: "Debian's dataset-fashion-mnist written as train/<class>/*.png (8,000) and test/<class>/*.png (10,000), read as a user's folder; the default search's recipe, validated on half the train folder",
  },
];

/** The search options of a pool (the CLI's defaults for everything the spec does not set). */
export function searchOptionsOf(spec: PoolSpec, dir: string | undefined, rest: Pick<SearchOptions, 'method' | 'budget' | 'metrics' | 'out' | 'cache' | 'parallel'> & Partial<SearchOptions>): SearchOptions {
  const d = SEARCH_DEFAULTS;
  return {
    space: d.space,
    dataset: spec.dataset,
    ...(dir !== undefined ? { dir } : {}),
    pool: spec.pool,
    channels: d.channels,
    cells: d.cells,
    epochs: spec.epochs,
    batchSize: d.batchSize,
    lr: d.lr,
    scoreBatch: d.scoreBatch,
    validFraction: spec.validFraction,
    trainLimit: spec.trainLimit ?? d.trainLimit,
    ...(spec.validLimit !== undefined ? { validLimit: spec.validLimit } : {}),
    seed: d.seed,
    ...rest,
  };
}

/** The `robot-nas search` flags giving this pool's searches (besides method, budget, seeds, parallel and cache). */
export function searchFlags(spec: PoolSpec, dir: string | undefined): string[] {
  const d = SEARCH_DEFAULTS;
  return [
    ...(spec.dataset !== d.dataset ? ['--dataset', spec.dataset] : []),
    ...(dir !== undefined ? ['--data', dir] : []),
    ...(spec.pool !== d.pool ? ['--pool', String(spec.pool)] : []),
    ...(spec.validFraction !== d.validFraction ? ['--valid-fraction', String(spec.validFraction)] : []),
    ...((spec.trainLimit ?? d.trainLimit) !== d.trainLimit ? ['--train-limit', String(spec.trainLimit)] : []),
    ...(spec.validLimit !== d.validLimit ? ['--valid-limit', spec.validLimit === undefined ? 'all' : String(spec.validLimit)] : []),
    ...(spec.epochs !== d.epochs ? ['--epochs', String(spec.epochs)] : []),
  ];
}

export interface NoiseArch {
  arch: string;
  /** Seed-0 rank in the pool of trained architectures (1 = best). */
  rank: number;
  /** 'top' (among the best) or 'sample' (a seeded sample of the rest). */
  group: 'top' | 'sample';
  /** Validation accuracy by training seed (seed 0 = the ground truth). */
  values: Record<string, number>;
}

export interface PoolInfo {
  spec: { id: string; title: string; note: string; dataset: string; validFraction: number; trainLimit?: number; validLimit: number | null; epochs: number; pool: number };
  /** The folder, relative to the working folder when inside it. */
  dir: string;
  /** The image folder of a folder dataset (absolute), else null. */
  dataDir: string | null;
  key: string;
  data: DataInfo;
  /** Trained architectures (the whole sampled pool) and the search's candidates with its default metrics. */
  trained: number;
  candidates: number;
  metrics: string[];
  defaultMetrics: string[];
  tableFile: string;
  metricsFiles: Record<string, string>;
  cacheFile: string;
  flags: string[];
  accuracy: { best: number; median: number; worst: number };
  /** Mean training seconds (recorded) and their sum. */
  trainSeconds: { mean: number; total: number };
  noise: { seeds: number[]; archs: NoiseArch[] };
  /** Process CPU seconds spent building the pool, over every run that added to it. */
  cpuSeconds: number;
}

export interface PoolOptions {
  /** Worker threads (default: the number of cores). */
  parallel?: number;
  log?: (m: string) => void;
  /** Training seeds of the noise subset besides 0, and its size: the `top` best and `sample` others. */
  noiseSeeds?: number[];
  noiseTop?: number;
  noiseSample?: number;
}

/** Process CPU seconds (every thread) since `since`. */
function cpuSince(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

/** Builds (or completes) a pool and returns what the report needs. */
export async function ensurePool(spec: PoolSpec, root: string, o: PoolOptions = {}): Promise<PoolInfo> {
  const log = o.log ?? (() => {});
  const parallel = o.parallel ?? availableParallelism();
  const cpu0 = process.cpuUsage();
  const dataDir = spec.folder?.(root, log);
  const metrics = [...METRIC_NAMES];
  // The ground truth trains every sampled architecture: its search scores `params` only, which is always finite,
  // so no architecture is dropped before training (a search with other metrics drops some; the table keeps them).
  const base = searchOptionsOf(spec, dataDir, { method: 'rs', budget: 'all', metrics: ['params'], out: join(root, 'unused'), cache: null, parallel, schedule: 'async' });
  const plan0 = planSearch(base);
  const data = await loadData(plan0, () => {});
  const train = trainSettings(base, data.info);
  const key = queryKey({
    kind: 'evidence-pool',
    space: base.space,
    dataset: spec.dataset,
    fingerprint: data.info.fingerprint,
    shape: data.info.shape,
    classes: data.info.classes,
    split: { validFraction: spec.validFraction, trainLimit: base.trainLimit ?? null, validLimit: base.validLimit ?? null, seed: base.seed },
    network: { channels: base.channels, cells: base.cells },
    train,
    scoreBatch: base.scoreBatch,
    code: TRAINING_CODE_VERSION,
  }).slice(0, 12);
  const dir = resolve(root, `${spec.id}-${key}`);
  const cacheFile = join(dir, 'query-cache.jsonl');
  const store = JsonlStore.open(cacheFile);
  const runner: Runner<Job, JobResult> = localRunner(parallel, jobExecutor());
  const tag = `${spec.id}:`;
  const every = (n: number, total: number): boolean => n === total || n % 20 === 0;
  const hooks = (what: string): SearchHooks => ({
    log: (m) => {
      if (!m.startsWith('data:')) log(`${tag} ${m}`);
    },
    onScored: (done, total) => {
      if (every(done, total)) log(`${tag} ${what}: scored ${done}/${total}`);
    },
  });
  try {
    // 1. Ground truth: every architecture trained once, as the search trains it.
    let trainedNow = 0;
    const truthOut = join(dir, `truth-p${spec.pool}-j${parallel}`);
    await runSearch(
      { ...base, cache: cacheFile, out: truthOut },
      {
        ...hooks('params'),
        onQuery: (l, budget) => {
          if (!l.cached) trainedNow++;
          if (!l.cached || every(l.n, budget)) log(`${tag} ground truth ${l.n}/${budget}: ${l.validAccuracy.toFixed(2)} % ${l.cached ? '(cached)' : `in ${l.seconds.toFixed(1)} s`}`);
        },
      },
      { runner, store },
    );
    // 2. The search's own metric tables: every metric, and the default set (what `search` reads without --metrics).
    const archs = choosePool(plan0);
    const metricsFiles: Record<string, string> = {};
    for (const set of [metrics, [...SEARCH_METRICS]]) {
      const plan = planSearch({ ...base, metrics: set, cache: cacheFile, out: truthOut });
      const scored = await scorePool(plan, archs, runner, hooks(set === metrics ? 'all metrics' : 'default metrics'));
      metricsFiles[set.join(',')] = scored.metricsFile;
    }
    const all = readResults(metricsFiles[metrics.join(',')], plan0.space).rows;
    const dflt = readResults(metricsFiles[SEARCH_METRICS.join(',')], plan0.space).rows;
    // The replay reads the all-metrics table in place of the search's default one: they must agree bit for bit.
    for (const a of archs) {
      for (const m of SEARCH_METRICS) {
        const x = all.get(a)?.[m];
        const y = dflt.get(a)?.[m];
        if (!Object.is(x, y)) throw new Error(`${spec.id}: metric ${m} of ${a} is ${x} scored with every metric but ${y} scored with the default set`);
      }
    }
    // 3. The ground truth, read from the store by the search's own job keys.
    const jobOf = (arch: string, seed = base.seed): TrainingJob => ({ ...trainingJobFor(plan0, data, train, arch), seed });
    const truth = new Map<string, { value: number; cost: number }>();
    for (const a of archs) {
      const r = store.get(trainingJobKey(jobOf(a)));
      if (r === undefined) throw new Error(`${spec.id}: no training of ${a} in ${cacheFile} after the ground-truth run`);
      truth.set(a, { value: r.value, cost: r.cost });
    }
    // 4. The benchmark table, in the search's pool order.
    const tableFile = join(dir, `table-p${spec.pool}.csv`);
    writeAtomic(tableFile, poolTableCsv(archs.map((a) => ({ arch: a, ...truth.get(a)!, metrics: all.get(a) ?? {} })), metrics));
    // 5. Training noise: the best `top` and a seeded sample of the others, trained again under other seeds.
    const noiseSeeds = o.noiseSeeds ?? [1, 2];
    const sorted = [...archs].sort((x, y) => truth.get(y)!.value - truth.get(x)!.value || archs.indexOf(x) - archs.indexOf(y));
    const rankOf = (v: number): number => 1 + archs.filter((a) => truth.get(a)!.value > v).length;
    const top = sorted.slice(0, o.noiseTop ?? 10);
    const rest = sorted.slice(top.length);
    const sample = new Rng(deriveSeed(base.seed, `evidence-noise:${spec.id}`)).shuffle([...rest]).slice(0, o.noiseSample ?? 10);
    const subset = [...top, ...sample];
    const noise: NoiseArch[] = subset.map((a) => ({ arch: a, rank: rankOf(truth.get(a)!.value), group: top.includes(a) ? 'top' : 'sample', values: { 0: truth.get(a)!.value } }));
    let noiseDone = 0;
    const noiseTotal = subset.length * noiseSeeds.length;
    for (const s of noiseSeeds) {
      const objective = new JobObjective<TrainingJob, TrainingOutcome>({
        archs: subset,
        jobOf: (a) => jobOf(a, s),
        keyOf: trainingJobKey,
        valueOf: (r) => ({ value: r.validAccuracy, seconds: r.seconds, details: { diverged: r.diverged, epochs: r.epochs } }),
        runner: runner as Runner<TrainingJob, TrainingOutcome>,
        store,
        onQuery: (e) => {
          noiseDone++;
          if (!e.cached) trainedNow++;
          if (!e.cached || every(noiseDone, noiseTotal)) log(`${tag} noise ${noiseDone}/${noiseTotal} (training seed ${s}): ${e.value.toFixed(2)} % ${e.cached ? '(cached)' : `in ${e.cost.toFixed(1)} s`}`);
        },
      });
      const values = await Promise.all(subset.map((_, i) => objective.evaluate(i)));
      values.forEach((ev, i) => (noise[i].values[String(s)] = ev.value));
    }
    // 6. The pool's description; CPU time accumulates over the runs that trained something.
    const cpuFile = join(dir, 'cpu.jsonl');
    const cpu = cpuSince(cpu0);
    if (trainedNow > 0) appendFileSync(cpuFile, JSON.stringify({ finished: new Date().toISOString(), trained: trainedNow, cpuSeconds: cpu }) + '\n');
    const cpuSeconds = existsSync(cpuFile)
      ? readFileSync(cpuFile, 'utf8')
          .trim()
          .split('\n')
          .reduce((s, l) => s + (JSON.parse(l) as { cpuSeconds: number }).cpuSeconds, 0)
      : 0;
    const values = sorted.map((a) => truth.get(a)!.value);
    const costs = archs.map((a) => truth.get(a)!.cost);
    const shown = (p: string): string => (resolve(p).startsWith(process.cwd() + '/') ? relative(process.cwd(), p) : p);
    const info: PoolInfo = {
      spec: { id: spec.id, title: spec.title, note: spec.note, dataset: spec.dataset, validFraction: spec.validFraction, ...(spec.trainLimit !== undefined ? { trainLimit: spec.trainLimit } : {}), validLimit: spec.validLimit ?? null, epochs: spec.epochs, pool: spec.pool },
      dir: shown(dir),
      dataDir: dataDir ?? null,
      key,
      data: data.info,
      trained: archs.length,
      candidates: archs.filter((a) => SEARCH_METRICS.every((m) => Number.isFinite(dflt.get(a)?.[m] ?? NaN))).length,
      metrics,
      defaultMetrics: [...SEARCH_METRICS],
      tableFile: shown(tableFile),
      metricsFiles: Object.fromEntries(Object.entries(metricsFiles).map(([k, f]) => [k, shown(f)])),
      cacheFile: shown(cacheFile),
      flags: searchFlags(spec, dataDir === undefined ? undefined : shown(dataDir)),
      accuracy: { best: values[0], median: values[Math.floor(values.length / 2)], worst: values[values.length - 1] },
      trainSeconds: { mean: costs.reduce((s, c) => s + c, 0) / costs.length, total: costs.reduce((s, c) => s + c, 0) },
      noise: { seeds: [0, ...noiseSeeds], archs: noise },
      cpuSeconds,
    };
    writeAtomic(join(dir, `pool-p${spec.pool}.json`), JSON.stringify(info, null, 2) + '\n');
    return info;
  } finally {
    await runner.close();
  }
}
