/**
 * `npm run evidence:search`: the real-data evidence for the search methods. On each evidence pool (MNIST, the
 * shared CIFAR-10 images, a Fashion-MNIST image folder; scripts/evidence/pools.ts) every architecture is trained
 * once as the search trains it; then every search method of the registry, random search and each single metric's
 * top-T are replayed on the pool's table for many search seeds, at T = 10 and 20, one query at a time and with
 * the search's default parallelism, and ranked against the pool's ground truth, next to the training noise.
 *
 *   npm run evidence:search                         build what is missing, then print the report (markdown, stdout)
 *   npm run evidence:search -- --build-only         only build or complete the pools
 *   npm run evidence:search -- --pools mnist --seeds 0-9 --budgets 10
 *
 * Progress goes to stderr; results to robot-nas-results/evidence/ (see pools.ts). Resumable: a rerun trains only
 * what is missing, so with built pools the report takes minutes (the replays).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseSeeds } from '../src/cli/options.js';
import { ensurePool, POOL_SPECS, type PoolInfo } from './evidence/pools.js';
import { evidenceReport } from './evidence/report.js';

const { values: args } = parseArgs({
  options: {
    pools: { type: 'string', default: POOL_SPECS.map((s) => s.id).join(',') },
    seeds: { type: 'string', default: '0-49' },
    budgets: { type: 'string', default: '10,20' },
    parallel: { type: 'string' },
    root: { type: 'string', default: join('robot-nas-results', 'evidence') },
    'build-only': { type: 'boolean', default: false },
  },
});

const log = (m: string): void => {
  process.stderr.write(`${m}\n`);
};

async function main(): Promise<void> {
  const ids = args.pools!.split(',').filter(Boolean);
  const specs = ids.map((id) => {
    const s = POOL_SPECS.find((p) => p.id === id);
    if (s === undefined) throw new Error(`--pools: unknown pool '${id}'; known: ${POOL_SPECS.map((p) => p.id).join(', ')}`);
    return s;
  });
  const seeds = parseSeeds(args.seeds!);
  const budgets = args.budgets!.split(',').map(Number);
  if (budgets.some((t) => !(Number.isInteger(t) && t >= 1))) throw new Error(`--budgets: expected positive integers, got ${args.budgets}`);
  const workers = args.parallel !== undefined ? Number(args.parallel) : availableParallelism();
  if (!(Number.isInteger(workers) && workers >= 1)) throw new Error(`--parallel: expected a positive integer, got ${args.parallel}`);
  mkdirSync(args.root!, { recursive: true });
  const pools: PoolInfo[] = [];
  for (const spec of specs) {
    const t0 = performance.now();
    log(`${spec.id}: building the pool (${spec.pool} architectures; cached trainings are reused) …`);
    pools.push(await ensurePool(spec, args.root!, { parallel: workers, log }));
    log(`${spec.id}: pool ready in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  if (args['build-only']) return;
  const report = await evidenceReport(pools, { seeds, budgets, parallels: [1, availableParallelism()], log });
  writeFileSync(join(args.root!, 'report.md'), report.markdown);
  writeFileSync(join(args.root!, 'report.json'), JSON.stringify(report.data, null, 2) + '\n');
  process.stdout.write(report.markdown);
}

try {
  await main();
} catch (e) {
  // One line, not the wasm module's rethrow of the whole minified source.
  process.stderr.write(`search evidence: ${(e as Error).stack ?? (e as Error).message}\n`);
  process.exitCode = 1;
}
