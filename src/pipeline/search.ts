/**
 * A search on real data, end to end, with its files: choose the candidate pool, score it with the
 * training-free metrics (resumable CSV, reused when already computed for the same pool and settings), run a
 * search method whose queries train architectures (results kept in a store shared across runs and processes),
 * and write the results to the output folder as they come:
 *
 *   settings.json   what the run depends on (a rerun with other settings in the same folder is refused)
 *   metrics.csv     the pool's metric values, one row per architecture (scored into a table shared next to
 *                   the query cache, so other searches with the same scoring settings reuse every row)
 *   queries.jsonl   one line per distinct query, appended as it finishes
 *   result.json     the answer, T0, costs, learned weights, settings, data split (written at the end)
 *   search-curve.svg  every query's validation accuracy and the best so far vs number of queries, T0 marked
 *
 * Scoring and training jobs share one runner (`parallel` worker threads, or one given by the caller, e.g. a
 * queue). Interrupting and rerunning the same command resumes: metric rows already in the CSV are not
 * recomputed and trained architectures come from the query cache, so the rerun replays the finished part.
 * This module is the I/O edge of the search; the search methods themselves stay pure.
 */
import { join } from 'node:path';
import { jobExecutor, type Job, type JobResult, type TrainingJob } from '../jobs/index.js';
import { localRunner, type Runner } from '../runner/index.js';
import { JsonlStore } from '../store/jsonl.js';
import { MemoryStore } from '../store/memory.js';
import type { ResultStore } from '../store/types.js';
import type { TrainingOutcome } from '../train/spec.js';
import { writeAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import { searchFolder, settingsDiff, shownPath } from './files.js';
import { whyNotReplaceable } from '../util/owned-folder.js';
import { loadData, planSearch, poolSize, searchSettings, trainSettings } from './plan.js';
import { runQueries } from './queries.js';
import { writeResults } from './results.js';
import { checkBudget } from '../search/types.js';
import { applyLimits, candidateSpec, LatencyCache } from './limits.js';
import { checkPoolFits } from '../model/fits.js';
import { choosePool, scorePool, tableDir } from './score.js';
import type { SearchHooks, SearchOptions, SearchPlan, SearchResult } from './types.js';

export { SEARCH_METRICS, type PoolLimits, type QueryLine, type SearchHooks, type SearchOptions, type SearchResult } from './types.js';

export interface SearchServices {
  /** Runs the scoring and training jobs (default: `parallel` local worker threads, closed at the end). */
  runner?: Runner<Job, JobResult>;
  /** Where trainings are kept (default: the `cache` file, or memory). */
  store?: ResultStore;
  /**
   * `performance.now()` from which the result's wall seconds count (default: when runSearch is called). The CLI gives
   * 0, the process's start, so that the figure covers start-up, data loading and everything else the user waited for.
   */
  startedAt?: number;
}

/** The default output folder of a search: the first of `out`, `out-2`, … that is free or holds this same search. */
function defaultOut(p: SearchPlan, settings: Record<string, unknown>): string {
  for (let n = 1; ; n++) {
    const dir = n === 1 ? p.out : `${p.out}-${n}`;
    if (whyNotReplaceable(dir, searchFolder(p.cache, dir)) === undefined && settingsDiff(join(dir, 'settings.json'), settings).length === 0) return dir;
  }
}

/**
 * Runs a search as six steps: plan (every option checked), data, pool and its limits, metrics, queries, results. The
 * output folder is claimed (settings.json written) only once every check has passed, so a refused run never
 * blocks the corrected command.
 */
export async function runSearch(o: SearchOptions, hooks: SearchHooks = {}, services: SearchServices = {}): Promise<SearchResult> {
  const startMs = services.startedAt ?? performance.now();
  const plan = planSearch(o);
  // threads started now load their modules while this thread reads the data (no more than the pool has jobs)
  const runner = services.runner ?? localRunner(Math.min(o.parallel, poolSize(plan)), jobExecutor(), true);
  try {
    return await searchWith(plan, runner, o, hooks, services, startMs);
  } finally {
    if (services.runner === undefined) await runner.close();
  }
}

async function searchWith(checked: SearchPlan, runner: Runner<Job, JobResult>, o: SearchOptions, hooks: SearchHooks, services: SearchServices, startMs: number): Promise<SearchResult> {
  const log = (m: string): void => hooks.log?.(m);
  const data = await loadData(checked, log, hooks.onDataProgress);
  const train = trainSettings(o, data.info);
  const settings = searchSettings(o, train, data.info);
  const plan = o.outIsDefault ? { ...checked, out: defaultOut(checked, settings) } : checked;
  const settingsFile = join(plan.out, 'settings.json');
  const diffs = settingsDiff(settingsFile, settings);
  if (diffs.length > 0) {
    throw new InputError(`${shownPath(plan.out)} holds a search with other settings — ${diffs.join('; ')}. Use another --out, or the same settings to resume.`);
  }
  const store = services.store ?? (plan.cache === null ? new MemoryStore() : JsonlStore.open(plan.cache));
  const latency = new LatencyCache(tableDir(plan), plan, data.info);
  const limited = applyLimits(plan, data.info, choosePool(plan), latency, hooks);
  if (o.budget !== 'all' && limited.removed > 0) checkBudget(limited.archs.length, o.budget, `the pool (${limited.archs.length} of ${limited.before} architectures within the limits)`);
  // every network the search may score or train must fit in the engine, checked before the first job (model/fits.ts)
  checkPoolFits(
    limited.archs.map((a) => candidateSpec(plan, data.info, a)),
    [
      { setting: 'scoreBatch', batch: o.scoreBatch, doing: 'score the metrics on' },
      { setting: 'batchSize', batch: Math.min(o.batchSize, data.info.trainCount), doing: 'train on' },
    ],
  );
  const scored = await scorePool(plan, limited.archs, runner, hooks, limited.before, data.info, data.folders);
  writeAtomic(settingsFile, JSON.stringify(settings, null, 2) + '\n');
  writeAtomic(join(plan.out, 'metrics.csv'), scored.csv);
  const queries = await runQueries(plan, scored, data, train, runner as Runner<TrainingJob, TrainingOutcome>, store, hooks);
  return await writeResults(plan, scored, limited, latency, data, settings, queries, startMs);
}
