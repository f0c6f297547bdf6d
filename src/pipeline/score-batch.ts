/**
 * Batch scoring: many architectures of a space, each a scoring job (src/jobs/score.ts) run by the runner it is given
 * (in-process, worker threads, a queue), one CSV row appended per finished architecture (proxies/results.ts),
 * resumable. Step 4 of a search, and `robot-nas proxies`'s batch mode.
 *
 * Next to the CSV a small `<out>.meta.json` records what the numbers depend on besides the metrics (space,
 * dataset, split, C, N, batch, classes, seed, the scoring batch's fingerprint and the scoring code version); resuming with
 * different settings or other images is an InputError instead of a silent mix of incompatible rows.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Split } from '../data/types.js';
import { scoringJob, type ScoringJob } from '../jobs/score.js';
import { openResults } from '../proxies/results.js';
import { batchIndices, SCORING_CODE_VERSION, scoringDataset, scoringFingerprint, SCORING_SPACES, type ScoringResult } from '../proxies/spec.js';
import { METRICS_CODE_VERSION } from '../proxies/types.js';
import { checkFits, SMALLEST_ARCH } from '../model/fits.js';
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
  /** The scoring batch's images (proxies/spec.ts scoringFingerprint), and the version of the scoring numerics. */
  fingerprint: string;
  code: number;
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
    // rows recorded without a fingerprint (an older robot-nas) cannot be matched to these images: not reused
    if (old.fingerprint === undefined) {
      throw new InputError(`${out} was scored by an older robot-nas that did not record which images it used; its rows cannot be checked against these images: use another --out`);
    }
    // a file without the code version was computed by metric code version 1
    old.code ??= 1;
    // other settings first: the scoring batch (and so its fingerprint) depends on --batch and --seed, and the
    // setting that changed is the useful thing to name
    const diffs = (Object.keys(meta) as (keyof RunMeta)[])
      .filter((k) => k !== 'fingerprint' && old[k] !== undefined && old[k] !== meta[k])
      .map((k) => `${k} ${String(old[k])} (now ${String(meta[k])})`);
    if (diffs.length > 0) {
      throw new InputError(`${out} was computed with other settings: ${diffs.join(', ')}; use another --out, or the same settings to resume`);
    }
    if (old.fingerprint !== meta.fingerprint) {
      throw new InputError(`${out} was scored on other images: the data changed (fingerprint ${old.fingerprint} → ${meta.fingerprint}); use another --out, or the same images to resume`);
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
  const where = {
    dataset: o.dataset,
    ...(o.dir !== undefined ? { dir: o.dir } : {}),
    ...(o.split !== undefined ? { split: o.split } : {}),
    ...(o.imageSize !== undefined ? { imageSize: o.imageSize } : {}),
    ...(o.imageChannels !== undefined ? { imageChannels: o.imageChannels } : {}),
    ...(o.imageCache !== undefined ? { cache: o.imageCache } : {}),
    ...(o.imageFolders !== undefined ? { folders: o.imageFolders } : {}),
  };
  // loaded here too, to fail fast on a bad dataset and to learn its class count, size and scoring batch's fingerprint
  const ds = await scoringDataset(where);
  batchIndices(ds.count, o.batch, o.seed);
  if (metrics.includes('zico') && 2 * o.batch > ds.count) {
    throw new InputError(`zico compares gradients on two batches of ${o.batch} images, but ${o.dataset} has only ${ds.count}: use a smaller batch or leave out zico`);
  }
  if (o.space === 'nb201' || o.space === 'darts') {
    // a size the engine cannot hold is refused before any job (model/fits.ts)
    checkFits(
      { space: o.space, arch: SMALLEST_ARCH[o.space], channels: o.channels, cells: o.cells, classes: ds.classes, inputShape: [ds.channels, ds.height, ds.width] },
      [{ setting: 'batch', batch: o.batch, doing: 'score the metrics on' }],
      `even the smallest ${o.space} network`,
    );
  }
  // every job carries its scoring batch's fingerprint: a worker with other images refuses it (proxies/spec.ts matchedDataset)
  const data = { ...where, fingerprint: scoringFingerprint(ds, o.batch, o.seed) };
  const meta: RunMeta = {
    space: o.space,
    dataset: o.dataset,
    split: o.split ?? null,
    channels: o.channels,
    cells: o.cells,
    batch: o.batch,
    classes: ds.classes,
    seed: o.seed,
    fingerprint: data.fingerprint,
    code: SCORING_CODE_VERSION,
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
          version: METRICS_CODE_VERSION,
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
            // (a runner that gave up waiting is about the queue, not this architecture)
            if (e instanceof Error && !e.message.startsWith('scoring ') && e.name !== 'QueueTimeoutError') e.message = `scoring ${arch}: ${e.message}`;
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
