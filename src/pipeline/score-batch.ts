/**
 * Batch scoring: many architectures of a space, each a scoring job (src/jobs/score.ts) run by the runner it is given
 * (in-process, worker threads, a queue), one CSV row appended per finished architecture (proxies/results.ts),
 * resumable. Step 4 of a search, and `robot-nas proxies`'s batch mode.
 *
 * Next to the CSV a small `<out>.meta.json` records what the numbers depend on besides the metrics (space,
 * dataset, split, C, N, batch, classes, seed); resuming with different settings is an InputError instead of
 * a silent mix of incompatible rows.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Split } from '../data/types.js';
import { scoringJob, type ScoringJob } from '../jobs/score.js';
import { openResults } from '../proxies/results.js';
import { batchIndices, scoringDataset, SCORING_SPACES, type ScoringResult } from '../proxies/spec.js';
import type { Runner } from '../runner/types.js';
import { getSpace } from '../spaces/index.js';
import { writeAtomic } from '../util/atomic.js';
import { InputError, inputError } from '../util/errors.js';
import { selectArchs, type ArchSpec } from './archs.js';

export interface BatchOptions {
  space: string;
  archs: ArchSpec;
  dataset: string;
  /** Dataset folder (passed to the dataset loader). */
  dir?: string;
  split?: Split;
  /** Working image size and channels, and the image cache folder (absent: the images' own; memory). */
  imageSize?: number;
  imageChannels?: 1 | 3;
  imageCache?: string;
  /** The parts' image cache folders, when known (jobs open them without listing the dataset). */
  imageFolders?: Partial<Record<'train' | 'val' | 'test' | 'all', string>>;
  metrics: string[];
  channels: number;
  cells: number;
  batch: number;
  seed: number;
  /** Runs the scoring jobs (the CLI's, or a search's runner shared with its trainings). */
  runner: Runner<ScoringJob, unknown>;
  /** Output CSV (resumed if it exists). */
  out: string;
  /** Called once the work is known, before any job runs. */
  onStart?: (info: { total: number; resumed: number; todo: number; workers: number; repaired?: string }) => void;
  /** Called after each finished architecture (its row is already written). */
  onResult?: (r: ScoringResult, done: number, total: number) => void;
}

export interface BatchSummary {
  out: string;
  total: number;
  /** Rows that were already in the file. */
  resumed: number;
  /** Rows computed by this call. */
  computed: number;
  workers: number;
  /** Wall seconds of the computation. */
  seconds: number;
  repaired?: string;
}

interface RunMeta {
  space: string;
  dataset: string;
  split: string | null;
  channels: number;
  cells: number;
  batch: number;
  classes: number;
  seed: number;
}

/** Checks the settings against those recorded next to an existing results file. */
function checkMeta(out: string, meta: RunMeta): void {
  const file = `${out}.meta.json`;
  if (existsSync(file)) {
    let old: Partial<RunMeta>;
    try {
      old = JSON.parse(readFileSync(file, 'utf8')) as Partial<RunMeta>;
    } catch (e) {
      throw inputError(file, undefined, `unreadable run settings (${(e as Error).message}); delete it to start over`);
    }
    const diffs = (Object.keys(meta) as (keyof RunMeta)[])
      .filter((k) => old[k] !== undefined && old[k] !== meta[k])
      .map((k) => `${k} ${String(old[k])} (now ${String(meta[k])})`);
    if (diffs.length > 0) {
      throw new InputError(`${out} was computed with other settings: ${diffs.join(', ')}; use another --out, or the same settings to resume`);
    }
  }
}

function writeMeta(out: string, meta: RunMeta): void {
  writeAtomic(`${out}.meta.json`, JSON.stringify(meta, null, 2) + '\n');
}

/** Scores every selected architecture not yet in `out`, appending rows as they finish. */
export async function runProxyBatch(o: BatchOptions): Promise<BatchSummary> {
  if (!(SCORING_SPACES as readonly string[]).includes(o.space)) {
    throw new InputError(`--space ${o.space}: no network builder for this space (supported: ${SCORING_SPACES.join(', ')})`);
  }
  const space = getSpace(o.space);
  const metrics = [...new Set(o.metrics)];
  const archs = selectArchs(space, o.archs, o.seed);
  const data = {
    dataset: o.dataset,
    ...(o.dir !== undefined ? { dir: o.dir } : {}),
    ...(o.split !== undefined ? { split: o.split } : {}),
    ...(o.imageSize !== undefined ? { imageSize: o.imageSize } : {}),
    ...(o.imageChannels !== undefined ? { imageChannels: o.imageChannels } : {}),
    ...(o.imageCache !== undefined ? { cache: o.imageCache } : {}),
    ...(o.imageFolders !== undefined ? { folders: o.imageFolders } : {}),
  };
  // loaded here too, to fail fast on a bad dataset and to learn its class count and size
  const ds = await scoringDataset(data);
  batchIndices(ds.count, o.batch, o.seed);
  const meta: RunMeta = {
    space: o.space,
    dataset: o.dataset,
    split: o.split ?? null,
    channels: o.channels,
    cells: o.cells,
    batch: o.batch,
    classes: ds.classes,
    seed: o.seed,
  };
  checkMeta(o.out, meta);
  const results = openResults(o.out, metrics, space); // creates the folder
  writeMeta(o.out, meta);
  try {
    const todo = archs.filter((a) => !results.done.has(a));
    const resumed = archs.length - todo.length;
    const workers = todo.length === 0 ? 0 : Math.min(o.runner.capacity, todo.length);
    o.onStart?.({ total: archs.length, resumed, todo: todo.length, workers, ...(results.repaired ? { repaired: results.repaired } : {}) });
    const t0 = performance.now();
    let done = resumed;
    await Promise.all(
      todo.map((arch) => {
        const job = scoringJob({
          space: o.space,
          arch,
          config: { channels: o.channels, cells: o.cells, batch: o.batch, classes: ds.classes, metrics },
          data,
          seed: o.seed,
        });
        return o.runner.run(job).then(
          (res) => {
            const r = res as ScoringResult;
            results.append(r);
            done++;
            o.onResult?.(r, done, archs.length);
          },
          (e: unknown) => {
            // name the architecture, keeping the error's class (InputError → exit 2) and stack
            if (e instanceof Error && !e.message.startsWith('scoring ')) e.message = `scoring ${arch}: ${e.message}`;
            throw e;
          },
        );
      }),
    );
    return {
      out: o.out,
      total: archs.length,
      resumed,
      computed: todo.length,
      workers,
      seconds: (performance.now() - t0) / 1000,
      ...(results.repaired ? { repaired: results.repaired } : {}),
    };
  } finally {
    results.close();
  }
}
