/**
 * The search evidence report: on each pool of real trainings (pools.ts), every search method of the registry and
 * every single metric's top-T replayed on the pool's table (src/experiments/replay.ts) for many search seeds, ranked
 * against the pool's ground truth, next to the pool's noise; plus a spot check that `robot-nas search` run from the
 * pool's cache returns the replayed answers. Markdown for the README, and the per-run data as JSON.
 */
import { join } from 'node:path';
import { loadTable } from '../../src/benchmarks/load.js';
import type { Benchmark } from '../../src/benchmarks/types.js';
import { benchmarkAgreement, type MetricAgreement } from '../../src/experiments/agreement.js';
import { binomialSE, pooledSeedStd, swapRate, tiedWithBest } from '../../src/experiments/noise.js';
import { candidatePool, rankDifference, replay, searchMethodIds, summarise, type RankSummary, type ReplayResult } from '../../src/experiments/replay.js';
import { runSearch } from '../../src/pipeline/search.js';
import { jobExecutor } from '../../src/jobs/index.js';
import { inProcessRunner } from '../../src/runner/index.js';
import { JsonlStore } from '../../src/store/jsonl.js';
import { mean } from '../../src/util/stats.js';
import { searchOptionsOf, type PoolInfo, type PoolSpec } from './pools.js';

export interface ReportOptions {
  seeds: number[];
  budgets: number[];
  /** Queries per round to replay: 1 and the search's default. */
  parallels: number[];
  log: (m: string) => void;
}

export interface PoolNoise {
  archs: number;
  seeds: number[];
  /** Pooled seed-to-seed std of validation accuracy (points): all, the top ones, the sampled others. */
  sigma: number;
  sigmaTop: number;
  sigmaSample: number;
  /** Binomial standard error of one accuracy at the best and the median candidate. */
  seBest: number;
  seMedian: number;
  /** Among the top architectures: share of pairs swapping order between seed 0 and each other seed (mean). */
  topSwap: number;
  /** Retrainings in which the seed-0 best stays the best of the top group, and how many retrainings. */
  bestStays: number;
  retrainings: number;
  /** Mean change of accuracy when retrained: the top group (selected on seed 0) and the others. */
  dropTop: number;
  dropSample: number;
  /** Candidates within 2·√2·σ of the best: ranks the training noise cannot tell from rank 1. */
  tied: number;
}

export function poolNoise(info: PoolInfo, candidates: Float64Array): PoolNoise {
  const seeds = info.noise.seeds;
  const others = seeds.filter((s) => s !== 0);
  const vals = (a: PoolInfo['noise']['archs'][number]): number[] => seeds.map((s) => a.values[String(s)]);
  const top = info.noise.archs.filter((a) => a.group === 'top');
  const sample = info.noise.archs.filter((a) => a.group === 'sample');
  const sigma = pooledSeedStd(info.noise.archs.map(vals));
  const sortedDesc = [...candidates].sort((a, b) => b - a);
  const drop = (group: typeof top): number => mean(group.flatMap((a) => others.map((s) => a.values[String(s)] - a.values['0'])));
  let stays = 0;
  for (const s of others) {
    const best0 = top.reduce((x, y) => (y.values['0'] > x.values['0'] ? y : x));
    if (top.every((a) => a === best0 || a.values[String(s)] < best0.values[String(s)])) stays++;
  }
  return {
    archs: info.noise.archs.length,
    seeds,
    sigma,
    sigmaTop: pooledSeedStd(top.map(vals)),
    sigmaSample: pooledSeedStd(sample.map(vals)),
    seBest: binomialSE(sortedDesc[0], info.data.validCount),
    seMedian: binomialSE(sortedDesc[Math.floor(sortedDesc.length / 2)], info.data.validCount),
    topSwap: mean(others.map((s) => swapRate(top.map((a) => a.values['0']), top.map((a) => a.values[String(s)])))),
    bestStays: stays,
    retrainings: others.length,
    dropTop: drop(top),
    dropSample: drop(sample),
    tied: tiedWithBest([...candidates], 2 * Math.SQRT2 * sigma),
  };
}

const f1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '—');
const f2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '—');
const pct = (v: number | null): string => (v === null ? '—' : `${Math.round(v * 100)} %`);
const signed = (v: number, d = 2): string => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(d)}`;

interface Cell {
  method: string;
  budget: number;
  parallel: number;
  result: ReplayResult;
  summary: RankSummary;
}

function methodTable(cells: Cell[], bestMetrics: { label: string; cell: Cell }[], tied: number): string[] {
  const lines = [
    '| method | queries at once | mean rank ± SE | std | worst | found the best | within noise of the best (rank ≤ ' + tied + ') | validation accuracy (%) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const row = (label: string, c: Cell): string =>
    `| ${label} | ${c.result.deterministic ? 'any' : c.parallel} | ${f1(c.summary.meanRank)}${c.result.deterministic ? '' : ` ± ${f1(c.summary.se)}`} | ${c.result.deterministic ? '—' : f1(c.summary.stdRank)} | ` +
    `${c.summary.worst} | ${pct(c.summary.shareBest)} | ${pct(c.summary.shareTied)} | ${f2(c.summary.meanValue)}${c.result.deterministic ? '' : ` ± ${f2(c.summary.stdValue)}`} |`;
  for (const c of cells) lines.push(row(c.method, c));
  for (const b of bestMetrics) lines.push(row(`${b.label}: ${b.cell.method} (top-${b.cell.budget}, chosen in hindsight)`, b.cell));
  return lines;
}

/** What a method's mean rank says against another row, in words. */
function versus(a: Cell, b: Cell, bName: string): string {
  const d = rankDifference(a.summary, b.summary);
  const within = d.withinNoise ? ' (within 2 SE: not a measurable difference)' : '';
  if (d.diff === 0) return `level with ${bName}${within}`;
  return `${f1(Math.abs(d.diff))} ± ${f1(d.se)} ranks ${d.diff < 0 ? 'better' : 'worse'} than ${bName}${within}`;
}

interface PoolReport {
  markdown: string[];
  data: Record<string, unknown>;
}

async function poolReport(info: PoolInfo, o: ReportOptions): Promise<PoolReport> {
  const log = (m: string): void => o.log(`${info.spec.id}: ${m}`);
  const b: Benchmark = loadTable(info.tableFile);
  const metricsUsed = info.defaultMetrics;
  const bp = candidatePool(b, metricsUsed);
  const noise = poolNoise(info, bp.objective);
  const agreement: MetricAgreement[] = benchmarkAgreement(b);
  const methods = searchMethodIds(metricsUsed);
  const cells: Cell[] = [];
  const metricCells: Cell[] = [];
  for (const budget of o.budgets) {
    for (const parallel of o.parallels) {
      for (const method of methods) {
        const t0 = performance.now();
        const result = await replay(b, method, { budget, parallel, seeds: o.seeds, metrics: metricsUsed });
        cells.push({ method, budget, parallel, result, summary: summarise(result, noise.tied) });
        log(`replayed ${method}, T = ${budget}, ${parallel} at a time, ${o.seeds.length} seeds in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
    }
    for (const m of b.metrics.keys()) {
      const result = await replay(b, `metric:${m}`, { budget, parallel: 1, seeds: o.seeds, metrics: metricsUsed });
      metricCells.push({ method: `metric:${m}`, budget, parallel: 1, result, summary: summarise(result, noise.tied) });
    }
  }
  // Spot check: the real search, from the pool's cache, gives the replayed answer.
  const spot = await spotCheck(info, cells, o);
  log(`spot check: ${spot.length} searches from the cache agree with their replays`);

  const d = info.data;
  const md: string[] = [];
  md.push(`### ${info.spec.title}`, '');
  md.push(
    `Pool: ${info.trained} NAS-Bench-201 cells (C = 8, N = 1; the search's seeded pool, seed 0), every one trained once as the search trains it — ` +
      `${d.trainCount} train / ${d.validCount} validation images (split seed ${d.splitSeed}), ${info.spec.epochs} epoch${info.spec.epochs > 1 ? 's' : ''} ` +
      `(${info.spec.note}). Candidates of a search with the default metrics (${metricsUsed.join(', ')}): ${bp.pool.archs.length}` +
      `${bp.pool.archs.length < info.trained ? ` (${info.trained - bp.pool.archs.length} dropped for a non-finite metric)` : ''}. ` +
      `Their validation accuracy: best ${f2(info.accuracy.best)} %, median ${f2(info.accuracy.median)} %, worst ${f2(info.accuracy.worst)} %. ` +
      `A training took ${f1(info.trainSeconds.mean)} s on average (wall, on a machine shared with other jobs); building the pool took ${f1(info.cpuSeconds / 60)} CPU-minutes.`,
    '',
  );
  md.push(
    `**Noise.** Binomial standard error of one accuracy: ${f2(noise.seBest)} points at the best, ${f2(noise.seMedian)} at the median. ` +
      `Training noise, measured on ${noise.archs} architectures (the ${info.noise.archs.filter((a) => a.group === 'top').length} best and a seeded sample of the others) trained again with training seed${noise.retrainings > 1 ? 's' : ''} ` +
      `${noise.seeds.filter((s) => s !== 0).join(' and ')} on the same split: seed-to-seed std ${f2(noise.sigma)} points ` +
      `(best ones ${f2(noise.sigmaTop)}, others ${f2(noise.sigmaSample)}). Among the best ones, ${pct(noise.topSwap)} of pairs swap order when retrained, ` +
      `the best stays the best in ${noise.bestStays} of ${noise.retrainings} retrainings, and they lose ${f2(-noise.dropTop)} points on average (the others: ${signed(noise.dropSample)}) — ` +
      `they were picked on a lucky draw. ${noise.tied} candidates lie within 2·√2·σ = ${f2(2 * Math.SQRT2 * noise.sigma)} points of the best: ` +
      `ranks 1–${noise.tied} cannot be told apart by one training each.`,
    '',
  );
  md.push(`**Metrics against the ground truth** (all ${info.trained} trained architectures; top-T: rank of the best of the metric's T highest):`, '');
  md.push(`| metric | Spearman ρ | Kendall τ | ${o.budgets.map((t) => `top-${t} rank`).join(' | ')} |`, `|---|---|---|${o.budgets.map(() => '---|').join('')}`);
  for (const a of agreement) {
    const ranks = o.budgets.map((t) => metricCells.find((c) => c.method === `metric:${a.metric}` && c.budget === t)!.summary.meanRank);
    md.push(`| ${a.metric}${a.n < info.trained ? ` (${a.n})` : ''} | ${f2(a.spearman)} | ${f2(a.kendall)} | ${ranks.map((r) => String(r)).join(' | ')} |`);
  }
  md.push('');
  const dflt = Math.max(...o.parallels);
  for (const budget of o.budgets) {
    const inT = metricCells.filter((c) => c.budget === budget);
    const bestOf = (cs: Cell[]): Cell => cs.reduce((x, y) => (y.summary.meanRank < x.summary.meanRank ? y : x));
    // the fair yardstick: the best of the metrics the search combines; the best of every metric too when it differs
    const bestMetric = bestOf(inT.filter((c) => metricsUsed.includes(c.method.slice('metric:'.length))));
    const bestAny = bestOf(inT);
    const bests = [{ label: 'best single metric (of the combined ones)', cell: bestMetric }];
    if (bestAny.summary.meanRank < bestMetric.summary.meanRank) bests.push({ label: 'best single metric (of all scored)', cell: bestAny });
    md.push(`**T = ${budget}** (search seeds ${o.seeds[0]}–${o.seeds[o.seeds.length - 1]}; rank among the ${bp.pool.archs.length} candidates, 1 = best):`, '');
    md.push(...methodTable(cells.filter((c) => c.budget === budget), bests, noise.tied), '');
    const rs = cells.find((c) => c.method === 'rs' && c.budget === budget && c.parallel === dflt);
    const said: string[] = [];
    for (const c of cells.filter((x) => x.budget === budget && x.parallel === dflt && x.method !== 'rs')) {
      said.push(
        `${c.method} (${dflt} at a time): ${rs ? versus(c, rs, 'random search') + '; ' : ''}${versus(c, bestMetric, `the best single metric's top-${budget} (${bestMetric.method.slice(7)})`)}` +
          (c.summary.meanRank <= noise.tied ? ` — its mean rank is within the training noise of the best` : '') +
          '.',
      );
    }
    md.push(...said.map((s) => `- ${s}`), '');
  }
  md.push(
    `Spot check: \`robot-nas search\` run from this pool's cache (${spot.map((s) => s.method).join(', ')}; T = ${o.budgets[0]}, ${dflt} at a time, search seed ${o.seeds[0]}) returns the replayed answer each time. ` +
      `Rerun one: \`npx robot-nas search ${info.flags.join(' ')} --budget ${o.budgets[0]} --search-seed 3 --cache ${info.cacheFile}\`; ` +
      `replay many: \`npx robot-nas bench --table ${info.tableFile} --metrics ${metricsUsed.join(',')} --method robot --budget ${o.budgets[0]} --seeds 0-49 --parallel ${dflt}\`.`,
    '',
  );
  return {
    markdown: md,
    data: {
      pool: { ...info, noise: { ...info.noise, summary: noise } },
      agreement,
      replays: [...cells, ...metricCells].map((c) => ({ method: c.method, budget: c.budget, parallel: c.parallel, summary: c.summary, runs: c.result.runs.map((r) => ({ seed: r.seed, arch: r.arch, rank: r.rank, value: r.value, t0: r.t0 })) })),
      spot,
    },
  };
}

/** Runs the real search from the pool's cache for each method at the first budget, default parallelism and first seed, and checks it against the replay. */
async function spotCheck(info: PoolInfo, cells: Cell[], o: ReportOptions): Promise<{ method: string; arch: string }[]> {
  const { validLimit, ...rest } = info.spec;
  const spec: PoolSpec = { ...rest, ...(validLimit !== null ? { validLimit } : {}) };
  const budget = o.budgets[0];
  const parallel = Math.max(...o.parallels);
  const seed = o.seeds[0];
  const store = JsonlStore.open(info.cacheFile);
  const runner = inProcessRunner(jobExecutor());
  const out: { method: string; arch: string }[] = [];
  try {
    for (const c of cells.filter((x) => x.budget === budget && x.parallel === parallel)) {
      const run = c.result.runs.find((r) => r.seed === seed)!;
      const r = await runSearch(
        searchOptionsOf(spec, info.dataDir ?? undefined, {
          method: c.method,
          budget,
          metrics: info.defaultMetrics,
          searchSeed: seed,
          parallel,
          cache: info.cacheFile,
          out: join(info.dir, 'spot', `${c.method}-T${budget}-p${parallel}-s${seed}`),
        }),
        {},
        { runner, store },
      );
      if (r.freshTrainingSeconds > 0) throw new Error(`${info.spec.id}: the spot-check search of ${c.method} trained something: the pool's cache is incomplete`);
      if (r.best.arch !== run.arch || r.t0 !== run.t0) {
        throw new Error(`${info.spec.id}: search and replay disagree for ${c.method} (T ${budget}, ${parallel} at a time, seed ${seed}): search ${r.best.arch} (T0 ${r.t0}), replay ${run.arch} (T0 ${run.t0})`);
      }
      out.push({ method: c.method, arch: r.best.arch });
    }
  } finally {
    await runner.close();
  }
  return out;
}

export async function evidenceReport(pools: PoolInfo[], o: ReportOptions): Promise<{ markdown: string; data: unknown }> {
  const cpu0 = process.cpuUsage();
  const parts: PoolReport[] = [];
  for (const p of pools) parts.push(await poolReport(p, o));
  const u = process.cpuUsage(cpu0);
  const cpu = (u.user + u.system) / 1e6;
  const head = [
    `Every architecture of each pool was trained once; each search below is replayed on that ground truth (\`bench --table\` on the pool's table), so it sees exactly the trainings a real search would get from the cache. ` +
      `Methods: every search method of the registry (${searchMethodIds(pools[0]?.defaultMetrics ?? []).join(', ')}) with the default metrics, and each single metric's top-T. ` +
      `Queries at once: 1, and ${Math.max(...o.parallels)} (the search's default, the number of cores of this machine). ` +
      `Training all pools took ${f1(pools.reduce((s, p) => s + p.cpuSeconds, 0) / 60)} CPU-minutes; the replays and spot checks of this report ${f1(cpu / 60)}.`,
    '',
  ];
  return {
    markdown: [...head, ...parts.flatMap((p) => p.markdown)].join('\n'),
    data: { seeds: o.seeds, budgets: o.budgets, parallels: o.parallels, replayCpuSeconds: cpu, pools: parts.map((p) => p.data) },
  };
}
