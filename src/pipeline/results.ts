/** Step 6 of a search: result.json and the search curve, written atomically. */
import { join } from 'node:path';
import { renderSearchSvg } from '../plot/search.js';
import type { PreparedData } from '../train/data.js';
import { writeAtomic } from '../util/atomic.js';
import { seedStreams } from '../util/seeds.js';
import { queriesAtOnce } from './plan.js';
import type { QueriesDone } from './queries.js';
import { paretoFront } from '../search/pareto.js';
import { explainSearch } from '../search/explain.js';
import { candidateSpec, hasLimits, type LatencyCache, type LimitedPool } from './limits.js';
import type { ScoredPool } from './score.js';
import type { SearchPlan, SearchResult } from './types.js';
import { suggestSize } from './suggest-size.js';

export async function writeResults(
  p: SearchPlan,
  scored: ScoredPool,
  limited: LimitedPool,
  latency: LatencyCache,
  data: PreparedData,
  settings: Record<string, unknown>,
  q: QueriesDone,
  startMs: number,
): Promise<SearchResult> {
  const { o, out } = p;
  const bestIndex = q.outcome.best;
  const bestLine = q.lines.find((l) => l.index === bestIndex);
  if (!bestLine) throw new Error(`search returned pool index ${bestIndex}, which it never queried`);
  const size = (arch: string): { params: number; flops: number } => {
    const s = limited.sizeOf(arch);
    return { params: s.params, flops: s.flops };
  };
  // The answer's latency is reported with or without a latency limit (one measurement, cached).
  const latencyMs = limited.sizeOf(bestLine.arch).latencyMs ?? latency.get(candidateSpec(p, data.info, bestLine.arch));
  const front = paretoFront(q.lines.map((l) => ({ value: l.validAccuracy, cost: size(l.arch).params }))).map((i) => {
    const l = q.lines[i];
    return { arch: l.arch, index: l.index, query: l.n, validAccuracy: l.validAccuracy, ...size(l.arch) };
  });
  const files = {
    settings: join(out, 'settings.json'),
    metrics: join(out, 'metrics.csv'),
    metricsTable: scored.metricsFile,
    queries: join(out, 'queries.jsonl'),
    result: join(out, 'result.json'),
    curve: join(out, 'search-curve.svg'),
    ...(p.cache !== null ? { cache: p.cache } : {}),
  };
  const searchSeed = seedStreams.search(o.seed, o.searchSeed);
  const parallel = queriesAtOnce(o);
  const svg = await renderSearchSvg({
    title: `${p.method.name} on ${o.dataset} (${o.space}, pool ${scored.pool.archs.length}, T = ${q.budget}, seed ${searchSeed}${parallel > 1 ? `, ${parallel} at a time` : ''})`,
    yTitle: 'validation accuracy (%)',
    points: q.lines.map((l) => ({ n: l.n, value: l.validAccuracy, bestSoFar: l.bestSoFar })),
    ...(q.outcome.t0 !== undefined ? { t0: q.outcome.t0 } : {}),
  });
  writeAtomic(files.curve, svg);
  const result: SearchResult = {
    method: p.method.name,
    space: o.space,
    best: { arch: bestLine.arch, index: bestIndex, validAccuracy: bestLine.validAccuracy, query: bestLine.n, ...size(bestLine.arch) },
    ...(bestLine.details?.validByClass !== undefined ? { bestByClass: bestLine.details.validByClass as { total: number[]; correct: number[] } } : {}),
    bestLatencyMs: latencyMs,
    limits: hasLimits(o.limits) ? { ...o.limits, before: limited.before, removed: limited.removed } : null,
    suggestedSize: suggestSize(candidateSpec(p, data.info, bestLine.arch), o.limits) ?? null,
    pareto: front,
    t0: q.outcome.t0 ?? null,
    weights: q.outcome.weights ? { ...q.outcome.weights } : null,
    explanation: explainSearch(scored.pool, o.metrics, q.lines.map((l) => ({ index: l.index, value: l.validAccuracy })), bestIndex, q.outcome.weights, q.outcome.t0),
    queries: q.ledger.count,
    totalCost: q.ledger.cost,
    freshTrainingSeconds: q.objective.freshSeconds,
    cacheHits: q.objective.hits,
    diverged: q.lines.filter((l) => l.diverged).map((l) => ({ query: l.n, arch: l.arch, reason: String(l.details?.divergence ?? 'diverged') })),
    parallel,
    schedule: o.schedule ?? 'sync',
    queryWallSeconds: q.wallSeconds,
    scheduleSeconds: q.ledger.time,
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
