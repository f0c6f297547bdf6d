/**
 * Step 5 of a search: the search method runs on the pool, each query a training job on the runner, answered from
 * the result store when it was trained before (here or by another process). Queries are logged to
 * queries.jsonl in the order the search records them (in synchronous rounds: the order proposed, whatever order
 * the trainings finished in), appended as each round or query completes.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { JobObjective } from '../objective/jobs.js';
import { QueryLedger } from '../objective/ledger.js';
import type { Runner } from '../runner/types.js';
import type { SearchOutcome } from '../search/types.js';
import type { ResultStore } from '../store/types.js';
import { trainingJob, trainingJobKey, type TrainingJob } from '../jobs/train.js';
import { dataRefOf, type TrainingOutcome } from '../train/spec.js';
import type { PreparedData } from '../train/data.js';
import type { TrainSettings } from '../train/trainer.js';
import { Rng } from '../util/rng.js';
import { seedStreams } from '../util/seeds.js';
import { loggedKeys } from './files.js';
import { queriesAtOnce } from './plan.js';
import type { ScoredPool } from './score.js';
import type { QueryLine, SearchHooks, SearchPlan } from './types.js';

export interface QueriesDone {
  lines: QueryLine[];
  outcome: SearchOutcome;
  ledger: QueryLedger;
  objective: JobObjective<TrainingJob, TrainingOutcome>;
  budget: number;
  wallSeconds: number;
}

/** The training job of one architecture of the search. */
export function trainingJobFor(p: SearchPlan, data: PreparedData, train: TrainSettings, arch: string): TrainingJob {
  const { o } = p;
  return trainingJob({
    space: o.space,
    arch,
    network: { channels: o.channels, cells: o.cells },
    data: dataRefOf(
      data,
      o.dir === undefined ? undefined : o.dir,
      { ...(o.trainLimit !== undefined ? { trainLimit: o.trainLimit } : {}), ...(o.validLimit !== undefined ? { validLimit: o.validLimit } : {}) },
      { ...(o.imageSize !== undefined ? { imageSize: o.imageSize } : {}), ...(o.imageChannels !== undefined ? { imageChannels: o.imageChannels } : {}), cache: p.imageCache },
    ),
    train,
    seed: o.seed,
  });
}

export async function runQueries(
  p: SearchPlan,
  scored: ScoredPool,
  data: PreparedData,
  train: TrainSettings,
  runner: Runner<TrainingJob, TrainingOutcome>,
  store: ResultStore,
  hooks: SearchHooks,
): Promise<QueriesDone> {
  const { o, out } = p;
  const pool = scored.pool;
  const budget = o.budget === 'all' ? pool.archs.length : o.budget;
  const queriesFile = join(out, 'queries.jsonl');
  const logged = loggedKeys(queriesFile);
  const objective = new JobObjective<TrainingJob, TrainingOutcome>({
    archs: pool.archs,
    jobOf: (arch) => trainingJobFor(p, data, train, arch),
    keyOf: trainingJobKey,
    valueOf: (r) => ({
      value: r.validAccuracy,
      seconds: r.seconds,
      details: {
        trainAccuracy: r.trainAccuracy,
        trainLoss: r.trainLoss,
        ...(r.validByClass !== undefined ? { validByClass: r.validByClass } : {}),
        diverged: r.diverged,
        ...(r.divergence !== undefined ? { divergence: r.divergence } : {}),
        epochs: r.epochs,
      },
    }),
    runner,
    store,
    onJobEvent: (_i, arch, e) => hooks.onTrainEvent?.(arch, e),
    onWait: (_i, arch) => hooks.log?.(`waiting for another process training ${arch}`),
  });
  const lines: QueryLine[] = [];
  let best = -Infinity;
  const ledger = new QueryLedger(objective, {
    parallel: queriesAtOnce(o),
    clock: 'wall',
    onQuery: (rec) => {
      const e = objective.eventOf(rec.index)!;
      best = Math.max(best, rec.value);
      const line: QueryLine = {
        n: lines.length + 1,
        index: rec.index,
        arch: e.arch,
        validAccuracy: rec.value,
        seconds: rec.cost,
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
      hooks.onQuery?.(line, budget);
    },
  });
  const searchSeed = seedStreams.search(o.seed, o.searchSeed);
  const t0 = performance.now();
  const outcome = await p.method.run({ pool, ledger, budget, rng: new Rng(searchSeed), seed: searchSeed, schedule: o.schedule ?? 'sync' });
  return { lines, outcome, ledger, objective, budget, wallSeconds: (performance.now() - t0) / 1000 };
}
