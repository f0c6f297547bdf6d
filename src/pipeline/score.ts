/**
 * Steps 3 and 4 of a search: the candidate pool (its limits: limits.ts) and its metrics. The scored table is shared
 * by every search with the same scoring settings (rows are per architecture, any pool), named by their key so that
 * no setting change can clash with it. Architectures with a non-finite metric are dropped, and the budget is checked against what is
 * left — before the output folder is claimed.
 */
import { dirname, join, resolve } from 'node:path';
import type { Split } from '../data/types.js';
import type { ScoringJob } from '../jobs/score.js';
import { SCORING_CODE_VERSION, scoringDataset, scoringFingerprint, toMetricValue } from '../proxies/spec.js';
import { formatRow, readResults } from '../proxies/results.js';
import type { Runner } from '../runner/types.js';
import { checkBudget, makePool, type Pool } from '../search/types.js';
import { hasTrainPart, type DataInfo } from '../train/data.js';
import { InputError } from '../util/errors.js';
import { queryKey } from '../util/key.js';
import { selectArchs } from './archs.js';
import { shownPath } from './files.js';
import { runProxyBatch, type BatchSummary } from './score-batch.js';
import type { SearchHooks, SearchPlan } from './types.js';

export interface ScoredPool {
  archs: readonly string[];
  pool: Pool;
  dropped: number;
  scoring: BatchSummary;
  metricsFile: string;
  /** The pool's rows of the shared table, ready for the folder's metrics.csv. */
  csv: string;
}

/** The candidate pool: the seeded sample (or the whole space) the search starts from. */
export function choosePool(p: SearchPlan): string[] {
  return selectArchs(p.space, p.o.pool === 'all' ? { kind: 'all' } : { kind: 'sample', n: p.o.pool }, p.o.seed, 'pool');
}

/** Where the scored table (and the latency cache) of a search lives: beside the query cache. */
export function tableDir(p: SearchPlan): string {
  return p.cache === null ? p.out : dirname(p.cache);
}

export async function scorePool(
  p: SearchPlan,
  archs: readonly string[],
  runner: Runner<ScoringJob, unknown>,
  hooks: SearchHooks,
  before = archs.length,
  info?: DataInfo,
  folders?: Partial<Record<'train' | 'val' | 'test' | 'all', string>>,
): Promise<ScoredPool> {
  const { o, space } = p;
  const log = (m: string): void => hooks.log?.(m);
  const split: Split | undefined = (await hasTrainPart(o.dataset, o.dir)) ? 'train' : undefined;
  // The table is keyed by everything a row depends on: the images it was scored on (the scoring batch's fingerprint,
  // not only where they are), the network size, the scoring batch and seed, the metrics and the scoring code's version.
  // (The set is the one runProxyBatch scores from, loaded once per process.)
  const images = await scoringDataset({
    dataset: o.dataset,
    ...(o.dir !== undefined ? { dir: o.dir } : {}),
    ...(split !== undefined ? { split } : {}),
    ...(o.imageSize !== undefined ? { imageSize: o.imageSize } : {}),
    ...(o.imageChannels !== undefined ? { imageChannels: o.imageChannels } : {}),
    cache: p.imageCache,
    ...(folders !== undefined ? { folders } : {}),
  });
  const scoringKey = queryKey({
    kind: 'metrics',
    space: o.space,
    dataset: o.dataset,
    dir: o.dir === undefined ? null : resolve(o.dir),
    split: split ?? null,
    fingerprint: scoringFingerprint(images, o.scoreBatch, o.seed),
    channels: o.channels,
    cells: o.cells,
    batch: o.scoreBatch,
    seed: o.seed,
    metrics: o.metrics,
    code: SCORING_CODE_VERSION,
    // The working image shape and preprocessing: folders were always 3×32×32 and now keep their own size, so their
    // tables must not be reused; mnist's input never changed and is left out, so its tables keep their names.
    ...(o.dataset !== 'mnist' && info ? { input: info.shape.join('x') } : {}),
    ...(o.imageSize !== undefined ? { imageSize: o.imageSize } : {}),
    ...(o.imageChannels !== undefined ? { imageChannels: o.imageChannels } : {}),
  }).slice(0, 16);
  const metricsFile = join(tableDir(p), `metrics-${scoringKey}.csv`);
  const scoring = await runProxyBatch({
    space: o.space,
    archs: { kind: 'list', archs: [...archs] },
    dataset: o.dataset,
    ...(o.dir !== undefined ? { dir: o.dir } : {}),
    ...(split !== undefined ? { split } : {}),
    ...(o.imageSize !== undefined ? { imageSize: o.imageSize } : {}),
    ...(o.imageChannels !== undefined ? { imageChannels: o.imageChannels } : {}),
    imageCache: p.imageCache,
    ...(folders !== undefined ? { imageFolders: folders } : {}),
    metrics: o.metrics,
    channels: o.channels,
    cells: o.cells,
    batch: o.scoreBatch,
    seed: o.seed,
    runner,
    out: metricsFile,
    onStart: (s) => {
      log(`pool: ${s.total} ${o.space} architectures; metrics ${o.metrics.join(', ')} — ${s.resumed} already in ${shownPath(metricsFile)}, ${s.todo} to score` + (s.todo > 0 ? ` (${runner.label})` : ''));
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
        values: Object.fromEntries(o.metrics.map((m) => [m, toMetricValue(row[m])])),
        ...(row.ln_synflow !== undefined ? { ln_synflow: toMetricValue(row.ln_synflow) } : {}),
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
  if (o.budget !== 'all') checkBudget(complete.length, o.budget, `the pool (${complete.length} of ${before} architectures left after ${before > archs.length ? 'the limits and ' : ''}dropping non-finite metrics)`);
  const metricCols = new Map(o.metrics.map((m) => [m, Float64Array.from(complete, (a) => table.rows.get(a)![m])]));
  return { archs, pool: makePool(space, complete, metricCols), dropped, scoring, metricsFile, csv: table.header.join(',') + '\n' + rows.join('') };
}
