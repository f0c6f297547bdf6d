import { availableParallelism } from 'node:os';
/**
 * Evidence for training-based RoBoT on real images: the shared 1,000 CIFAR-10 images (800 train / 200
 * validation), NAS-Bench-201 cells, a seeded pool. Every architecture of the pool is trained once (the
 * "ground truth" of this small setting, stored in the query cache); then RoBoT, random search and each
 * single metric (its top-T) search the pool with the same budget T for several search seeds — their queries
 * are answered by the cache, i.e. by exactly the trainings the ground truth used.
 *
 *   npm run evidence:search            (env: POOL=50 BUDGET=10 EPOCHS=4 SEEDS=10 CHANNELS=8 DATASET=cifar10-1k)
 *   DATASET=mnist POOL=100 EPOCHS=1 npm run evidence:search    (4,000 train / 1,000 validation digits)
 *
 * Resumable: rerunning skips every training already in the cache. Writes
 * robot-nas-results/evidence-search/pool<P>-T<T>-e<E>-c<C>/{summary.json, table.md} and prints the table.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSearch, SEARCH_METRICS, type SearchOptions } from '../src/pipeline/search.js';
import { readResults } from '../src/proxies/results.js';
import { nb201Space } from '../src/spaces/nb201.js';
import { mean, spearman, std } from '../src/util/stats.js';

const env = (k: string, d: number): number => (process.env[k] !== undefined ? Number(process.env[k]) : d);
const POOL = env('POOL', 50);
const BUDGET = env('BUDGET', 10);
const EPOCHS = env('EPOCHS', 4);
const SEEDS = env('SEEDS', 10);
const CHANNELS = env('CHANNELS', 8);
const DATASET = process.env.DATASET ?? 'cifar10-1k';
if (DATASET !== 'cifar10-1k' && DATASET !== 'mnist') throw new Error(`DATASET must be cifar10-1k or mnist, got ${DATASET}`);
const MNIST = DATASET === 'mnist';
// One folder per setting; the query cache is shared, so a larger pool of the same seed (samples are nested)
// reuses every training of a smaller one.
const base = join('robot-nas-results', 'evidence-search');
const root = join(base, `${MNIST ? 'mnist-' : ''}pool${POOL}-T${BUDGET}-e${EPOCHS}-c${CHANNELS}`);
mkdirSync(root, { recursive: true });

const common: Omit<SearchOptions, 'method' | 'budget' | 'out'> = {
  space: 'nb201',
  dataset: DATASET,
  // MNIST: the search command's defaults (4,000 / 1,000 digits); CIFAR-10 1k: all of it, 800 / 200.
  ...(MNIST ? { trainLimit: 4000, validLimit: 1000 } : {}),
  pool: POOL,
  metrics: [...SEARCH_METRICS],
  channels: CHANNELS,
  cells: 1,
  epochs: EPOCHS,
  batchSize: 32,
  lr: 0.1,
  scoreBatch: 64,
  validFraction: 0.2,
  seed: 0,
  cache: join(base, 'query-cache.jsonl'),
  // one query at a time: the method runs replay the sequential RoBoT (every training comes from the ground truth's cache)
  parallel: 1,
};

const log = (m: string): void => {
  process.stderr.write(`${m}\n`);
};

async function main(): Promise<void> {
  const t0 = performance.now();

  // 1. Ground truth: every pool architecture trained once (random order, so a partial run is a fair sample).
  const allOut = join(root, 'all');
  // the ground truth trains on every core: which worker trains what does not change any result
  const all = await runSearch({ ...common, method: 'rs', budget: 'all', out: allOut, parallel: availableParallelism() }, { log });
  const truth = readFileSync(join(allOut, 'queries.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { arch: string; validAccuracy: number; seconds: number });
  const accOf = new Map(truth.map((q) => [q.arch, q.validAccuracy]));
  const sorted = [...accOf.values()].sort((a, b) => b - a);
  /** Rank in the pool (1 = best; ties share the best rank). */
  const rankOf = (acc: number): number => 1 + sorted.filter((v) => v > acc).length;
  const poolSize = all.pool.size;

  // 2. Searches at budget T.
  interface Row {
    method: string;
    runs: number;
    acc: number[];
    rank: number[];
    t0: number[];
  }
  const rows: Row[] = [];
  async function search(method: string, seeds: number[]): Promise<Row> {
    const row: Row = { method, runs: seeds.length, acc: [], rank: [], t0: [] };
    for (const s of seeds) {
      const out = join(root, `${method.replace(/[^a-z0-9_]+/gi, '-')}-r${s}`);
      const r = await runSearch({ ...common, method, budget: BUDGET, searchSeed: s, out });
      row.acc.push(r.best.validAccuracy);
      row.rank.push(rankOf(r.best.validAccuracy));
      if (r.t0 !== null) row.t0.push(r.t0);
    }
    log(`${method}: ${mean(row.acc).toFixed(2)} ± ${std(row.acc).toFixed(2)} (rank ${mean(row.rank).toFixed(1)})`);
    return row;
  }
  const seeds = Array.from({ length: SEEDS }, (_, i) => i);
  rows.push(await search('robot', seeds));
  rows.push(await search('rs', seeds));
  // A metric's top-T is deterministic: one run.
  const metricRows: Row[] = [];
  for (const m of SEARCH_METRICS) metricRows.push(await search(`metric:${m}`, [0]));
  const bestMetric = metricRows.reduce((a, b) => (mean(b.acc) > mean(a.acc) ? b : a));
  rows.push(...metricRows);

  // How well each metric alone ranks this pool by the objective (context for every method's numbers).
  const scores = readResults(join(allOut, 'metrics.csv'), nb201Space);
  const rho = SEARCH_METRICS.map((m) => {
    const xs: number[] = [];
    const ys: number[] = [];
    for (const q of truth) {
      const v = scores.rows.get(q.arch)?.[m];
      if (v !== undefined && Number.isFinite(v)) {
        xs.push(v);
        ys.push(q.validAccuracy);
      }
    }
    return `${m} ${spearman(Float64Array.from(xs), Float64Array.from(ys)).toFixed(2)}`;
  });
  const fmt = (v: number[], d = 2): string => (v.length === 0 ? '—' : v.length === 1 ? v[0].toFixed(d) : `${mean(v).toFixed(d)} ± ${std(v).toFixed(d)}`);
  const trainSeconds = truth.map((q) => q.seconds);
  const lines = [
    `Pool: ${poolSize} NAS-Bench-201 cells (C=${CHANNELS}, N=1), seed 0; data: ${MNIST ? 'MNIST (mnist package)' : 'shared CIFAR-10 1k'}, ${all.data.trainCount} train / ${all.data.validCount} validation ` +
      `(split seed 0); a query trains ${EPOCHS} epoch${EPOCHS > 1 ? 's' : ''} (SGD 0.9, lr 0.1 cosine, wd 3e-4, clip 5, batch 32, ${MNIST ? 'crop' : 'crop+flip'}): ` +
      `${mean(trainSeconds).toFixed(1)} s on average (${Math.min(...trainSeconds).toFixed(1)}–${Math.max(...trainSeconds).toFixed(1)} s). ` +
      `Budget T = ${BUDGET}; search seeds 0–${SEEDS - 1}.`,
    '',
    `Pool validation accuracy: best ${sorted[0].toFixed(2)} %, median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} %, worst ${sorted[sorted.length - 1].toFixed(2)} %.`,
    '',
    `Spearman ρ of each metric with the pool's validation accuracy: ${rho.join(', ')}.`,
    '',
    '| method | runs | validation accuracy of the answer (%) | rank in the pool (1 = best) | found the pool best | T0 |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.method === bestMetric.method ? `**${r.method}** (best single metric)` : r.method} | ${r.runs} | ${fmt(r.acc)} | ${fmt(r.rank, 1)} | ` +
        `${r.rank.filter((k) => k === 1).length}/${r.runs} | ${fmt(r.t0, 1)} |`,
    ),
  ];
  const table = lines.join('\n');
  writeFileSync(join(root, 'table.md'), table + '\n');
  writeFileSync(
    join(root, 'summary.json'),
    JSON.stringify({ dataset: DATASET, rho, pool: poolSize, budget: BUDGET, epochs: EPOCHS, channels: CHANNELS, seeds, truth, rows, seconds: (performance.now() - t0) / 1000 }, null, 2) + '\n',
  );
  process.stdout.write(table + '\n');
}

try {
  await main();
} catch (e) {
  // One line, not the wasm module's rethrow of the whole minified source.
  process.stderr.write(`search evidence: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
