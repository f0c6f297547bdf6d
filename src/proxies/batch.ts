/**
 * Batch scoring: many architectures of a space, each a `ProxyJob` (job.ts) run on a `Runner` (in this thread,
 * on worker threads or on the queue: src/runner), one CSV row appended per finished architecture (results.ts), resumable.
 *
 * Next to the CSV a small `<out>.meta.json` records what the numbers depend on besides the metrics (space,
 * dataset, split, C, N, batch, classes, seed, the scoring batch's fingerprint and the scoring code version); resuming with
 * different settings or other images is an InputError instead of a silent mix of incompatible rows.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Split } from '../data/types.js';
import { formatGenotype, sampleGenotype } from '../spaces/darts.js';
import { getSpace } from '../spaces/index.js';
import type { SearchSpace } from '../spaces/types.js';
import { writeAtomic } from '../util/atomic.js';
import { InputError, inputError, SettingError } from '../util/errors.js';
import { seedStreams } from '../util/seeds.js';
import { Rng } from '../util/rng.js';
import { batchIndices, jobDataset, JOB_SPACES, SCORING_CODE_VERSION, scoringFingerprint, seededSample, type ProxyJob, type ProxyJobResult } from './job.js';
import { checkFits, SMALLEST_ARCH } from '../model/fits.js';
import type { Runner } from '../runner/types.js';
import { openResults } from './results.js';
import { METRICS_CODE_VERSION } from './types.js';

/** `all`, a sample size, a file of architectures (one per line), or a list of canonical architectures the caller already chose. */
export type ArchSpec = { kind: 'all' } | { kind: 'sample'; n: number } | { kind: 'file'; file: string } | { kind: 'list'; archs: readonly string[] };

/** `all` → the whole space; digits → a seeded sample of that many; anything else → a file name. */
export function parseArchSpec(text: string): ArchSpec {
  const t = text.trim();
  if (t === 'all') return { kind: 'all' };
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (!(Number.isSafeInteger(n) && n >= 1)) throw new SettingError('archs', `expected all, a positive number of architectures or a file, got '${text}'`);
    return { kind: 'sample', n };
  }
  return { kind: 'file', file: text };
}

/**
 * Reads one architecture per line (any notation the space parses); blank lines and `#` comments are skipped,
 * repeats (after canonicalisation) are dropped. A line that is not an architecture is an InputError naming it.
 */
export function readArchFile(file: string, space: SearchSpace): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw inputError(file, undefined, code === 'ENOENT' ? 'file not found (--archs expects all, a number, or a file)' : `cannot read file (${code ?? String(e)})`);
  }
  const out: string[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    let arch: string;
    try {
      arch = space.parse(line);
    } catch (e) {
      throw inputError(file, i + 1, `not a ${space.id} architecture: '${line}' (${(e as Error).message})`);
    }
    if (!seen.has(arch)) out.push(arch);
    seen.add(arch);
  });
  if (out.length === 0) throw inputError(file, undefined, 'no architectures in the file');
  return out;
}

/**
 * n distinct DARTS genotypes (canonical strings) as RoBoT draws its pool: `sampleGenotype` on
 * `new Rng(seed, 'numpy')` (numpy's RandomState(seed)), repeats skipped, so the list is the first n distinct
 * genotypes of RoBoT's pool for that seed and samples of one seed are nested.
 */
export function sampleDartsArchs(n: number, seed: number): string[] {
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
    throw new SettingError('seed', `${seed}: the darts space is sampled with numpy's RandomState, which needs a seed in 0..4294967295`);
  }
  const rng = new Rng(seed, 'numpy');
  const out: string[] = [];
  const seen = new Set<string>();
  // repeats are astronomically rare (~2.8e20 genotypes); the cap only guards against a broken sampler
  for (let draws = 0; out.length < n; draws++) {
    if (draws >= 10 * n + 100) throw new Error(`darts sampling: only ${out.length} distinct genotypes in ${draws} draws`);
    const g = formatGenotype(sampleGenotype(rng));
    if (!seen.has(g)) out.push(g);
    seen.add(g);
  }
  return out;
}

/**
 * The architectures to score. A sample of n is the first n of a Fisher–Yates shuffle of `space.enumerate()`
 * seeded by `seedStreams.pool(seed)`, so samples of one seed are nested (the 200 are the first 200 of 400).
 * The darts space cannot be enumerated: a sample of n is `sampleDartsArchs(n, seed)` and `all` is an InputError.
 */
export function selectArchs(space: SearchSpace, spec: ArchSpec, seed: number, setting = 'archs'): string[] {
  if (spec.kind === 'file') return readArchFile(spec.file, space);
  if (spec.kind === 'list') return [...spec.archs];
  if (space.id === 'darts') {
    if (spec.kind === 'all') {
      throw new SettingError(
        setting,
        `all: the darts space has ~${space.size.toExponential(1)} architectures and cannot be enumerated; it can only be sampled ` +
          '(a number N draws N distinct genotypes as RoBoT samples its pool)' + (setting === 'archs' ? ' or read from a file (one genotype per line)' : ''),
      );
    }
    return sampleDartsArchs(spec.n, seed);
  }
  const all = space.enumerate();
  if (spec.kind === 'all') return all;
  if (spec.n > all.length) throw new SettingError(setting, `${spec.n} architectures requested, but the ${space.id} space has only ${all.length}`);
  return seededSample(all, spec.n, new Rng(seedStreams.pool(seed)));
}

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
  runner: Runner<ProxyJob, unknown>;
  /** Output CSV (resumed if it exists). */
  out: string;
  /** Called once the work is known, before any job runs. */
  onStart?: (info: { total: number; resumed: number; todo: number; workers: number; repaired?: string }) => void;
  /** Called after each finished architecture (its row is already written). */
  onResult?: (r: ProxyJobResult, done: number, total: number) => void;
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
  /** The scoring batch's images (job.ts scoringFingerprint), and the version of the scoring numerics. */
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
  if (!(JOB_SPACES as readonly string[]).includes(o.space)) {
    throw new InputError(`--space ${o.space}: no network builder for this space (supported: ${JOB_SPACES.join(', ')})`);
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
  const ds = await jobDataset(where);
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
  // every job carries its scoring batch's fingerprint: a worker with other images refuses it (job.ts matchedDataset)
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
        const job: ProxyJob = {
          kind: 'score',
          space: o.space,
          arch,
          config: { channels: o.channels, cells: o.cells, batch: o.batch, classes: ds.classes, metrics },
          data,
          seed: o.seed,
          version: METRICS_CODE_VERSION,
        };
        return o.runner.run(job).then(
          (res) => {
            const r = res as ProxyJobResult;
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
