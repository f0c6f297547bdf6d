/**
 * One architecture's scoring described by a JSON-serialisable value, so that a worker thread here (or a machine
 * elsewhere, later) can run it from its description alone (src/jobs/score.ts makes it a job):
 *
 *   { space, arch, config: { channels, cells, batch, classes, metrics }, data: { dataset, dir?, split?, fingerprint }, seed, version }
 *     → { arch, values: { metric: value }, ln_synflow?, seconds }
 *
 * Determinism (everything but `seconds` is a function of the job; the streams are those of util/seeds.ts):
 * - batch: the first `batch` indices of a Fisher–Yates shuffle of 0..count-1 driven by
 *   `Rng(deriveSeed(seed, 'batch'))` — the same images for every architecture of a run, and a batch of k is a
 *   prefix of a batch of k+1;
 * - weights: PyTorch-default init (networks/params.ts `initParams`) from `Rng(deriveSeed(seed, 'weights:' + arch))`
 *   with `arch` the canonical string, so an architecture's weights do not depend on which other architectures
 *   run, in which order, or on which worker;
 * - zico's second batch: the next `batch` indices of the same shuffle (so the two batches are disjoint);
 * - the draws a metric makes itself (SWAP's and AZ-NAS's weights and noise): seed `deriveSeed(seed, 'draws:' + arch)`.
 * `version` is the metric code version (types.ts METRICS_CODE_VERSION) the job was made for: a job of another
 * version is refused rather than answered with other numerics.
 * Non-finite values travel as the strings 'nan', 'inf', '-inf' (JSON has no such numbers; the CSV readers
 * accept these spellings).
 */
import { buildNetwork } from '../networks/build.js';
import { initParams } from '../networks/params.js';
import type { ImageSet } from '../data/imageset.js';
import { getSpace } from '../spaces/index.js';
import { DataMismatchError, InputError } from '../util/errors.js';
import { createHash } from 'node:crypto';
import { Rng } from '../util/rng.js';
import { seedStreams } from '../util/seeds.js';
import { loadScoringDataset, type ScoringData } from './datasets.js';
import { asImageSet } from '../data/imageset.js';
import type { ImageDataset } from '../data/types.js';
import { computeProxies } from './index.js';
import { isMetricName, METRIC_NAMES, METRICS_CODE_VERSION, type Batch, type MetricName } from './types.js';

export type { ScoringData } from './datasets.js';

export interface ScoringConfig {
  /** C: channels of the first stage (nb201), initial channels (darts: NetworkCIFAR's C). */
  channels: number;
  /** nb201: N, cells per stage; darts: the number of cells (NetworkCIFAR's `layers`, RoBoT's search uses 5). */
  cells: number;
  /** Images in the scoring batch. */
  batch: number;
  /** Classifier outputs (the dataset's class count). */
  classes: number;
  metrics: string[];
}

export interface ScoringSpec {
  space: string;
  arch: string;
  config: ScoringConfig;
  data: ScoringData;
  /** The run seed; batch and weight seeds derive from it (see the module comment). */
  seed: number;
  /** METRICS_CODE_VERSION of the code that made the job (absent: version 1, before issue 20). */
  version?: number;
}

/** A metric value as JSON carries it (JSON has no NaN or infinities). */
export type MetricValue = number | 'nan' | 'inf' | '-inf';

export interface ScoringResult {
  /** Canonical architecture string. */
  arch: string;
  /** Metric → value, in `config.metrics` order. */
  values: Record<string, MetricValue>;
  /** ln(synflow), present when synflow was requested (finite where synflow overflows). */
  ln_synflow?: MetricValue;
  /** Wall seconds of the scoring itself (network build, init, metrics); excludes data loading. */
  seconds: number;
}

/** Spaces with a network builder. */
export const SCORING_SPACES = ['nb201', 'darts'] as const;

/** The first k of a seeded Fisher–Yates shuffle of `items` (a copy; k ≤ items.length). */
export function seededSample<T>(items: readonly T[], k: number, rng: Rng): T[] {
  const a = items.slice();
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(a.length - i);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a.slice(0, k);
}

/** Indices of the run's scoring batch (see the module comment). */
export function batchIndices(count: number, batch: number, seed: number): number[] {
  if (!(Number.isInteger(batch) && batch >= 1 && batch <= count)) {
    throw new InputError(`batch must be an integer in 1..${count} (the dataset's image count), got ${batch}`);
  }
  return seededSample(
    Array.from({ length: count }, (_, i) => i),
    batch,
    new Rng(seedStreams.scoringBatch(seed)),
  );
}

/** The scoring batch of a run: images NCHW and labels copied from the dataset; `skip` batches of the shuffle first. */
export function scoringBatch(ds: ImageSet, batch: number, seed: number, skip = 0): Batch {
  const idx = batchIndices(ds.count, batch * (skip + 1), seed).slice(batch * skip);
  return { shape: [batch, ds.channels, ds.height, ds.width], x: ds.batch(idx), targets: Int32Array.from(idx, (i) => ds.labels[i]!) };
}

export function toMetricValue(v: number): MetricValue {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return v;
}

function positiveInt(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}

/** Checks a spec's shape (it may come from JSON); returns the metric names. InputError on bad fields. */
export function checkScoringSpec(job: ScoringSpec): MetricName[] {
  if (!(SCORING_SPACES as readonly string[]).includes(job.space)) {
    throw new InputError(`no network builder for space '${job.space}' (supported: ${SCORING_SPACES.join(', ')})`);
  }
  const c = job.config;
  for (const k of ['channels', 'cells', 'batch', 'classes'] as const) {
    if (!positiveInt(c?.[k])) throw new InputError(`job config.${k} must be a positive integer, got ${String(c?.[k])}`);
  }
  if (!Array.isArray(c.metrics) || c.metrics.length === 0) throw new InputError('job config.metrics must list at least one metric');
  for (const m of c.metrics) {
    if (!isMetricName(m)) throw new InputError(`unknown metric '${m}'; expected some of ${METRIC_NAMES.join(', ')}`);
  }
  if (!Number.isInteger(job.seed)) throw new InputError(`job seed must be an integer, got ${String(job.seed)}`);
  const version = job.version ?? 1;
  if (version !== METRICS_CODE_VERSION) {
    throw new InputError(`the job was made for metric code version ${version}; this code computes version ${METRICS_CODE_VERSION} (different numbers): rescore with this version`);
  }
  return [...new Set(c.metrics)] as MetricName[];
}

/**
 * Version of the numerics a metric value depends on (the metrics, the networks, the engine's forward and backward
 * passes, the scoring batch). Part of every metric table's key, so that a table scored by older numerics is never
 * reused: bump it (types.ts METRICS_CODE_VERSION, one version for jobs and tables) in the same commit as any change
 * that moves a metric's value.
 */
export const SCORING_CODE_VERSION = METRICS_CODE_VERSION;

/** Key of a data spec, for the per-process dataset cache (where the images are, not which they are). */
function dataKey(d: ScoringData): string {
  return JSON.stringify([d.dataset, d.dir ?? null, d.split ?? null, d.imageSize ?? null, d.imageChannels ?? null]);
}

/**
 * SHA-256 (first 16 hex digits) of what a run's metric values depend on in its data: the scoring batch's normalised
 * images and labels, with the set's size and shape (which choose that batch). A metric table and every scoring job
 * carry it; images outside the batch do not change a metric, so they do not change it either.
 */
export function scoringFingerprint(ds: ImageSet, batch: number, seed: number): string {
  const b = scoringBatch(ds, batch, seed);
  const h = createHash('sha256');
  h.update(`${ds.count}:${ds.channels}:${ds.height}:${ds.width}:${ds.classes};${batch}:${seed};`);
  h.update(new Uint8Array(b.x.buffer, b.x.byteOffset, b.x.byteLength));
  h.update(new Uint8Array(b.targets.buffer, b.targets.byteOffset, b.targets.byteLength));
  return h.digest('hex').slice(0, 16);
}

/**
 * The dataset of a job whose scoring batch must have the job's fingerprint: one loaded earlier in this process (a
 * long-lived worker) is read again once when it does not match (the files may have been fixed meanwhile); images that
 * still differ are a DataMismatchError naming both fingerprints — the job is refused, not run on other images.
 */
export async function matchedDataset(d: ScoringData, batch: number, seed: number): Promise<ImageSet> {
  let ds = await scoringDataset(d);
  if (d.fingerprint === undefined || scoringFingerprint(ds, batch, seed) === d.fingerprint) return ds;
  datasets.delete(dataKey(d));
  for (const k of [...batches.keys()]) if (k.startsWith(`${dataKey(d)}|`)) batches.delete(k);
  ds = await scoringDataset(d);
  const here = scoringFingerprint(ds, batch, seed);
  if (here !== d.fingerprint) {
    throw new DataMismatchError(
      `the job's ${d.dataset} images have fingerprint ${d.fingerprint}, but ${d.dir ?? 'the default location'} here gives ${here}: ` +
        'this machine holds other data (point it to the same dataset files)',
    );
  }
  return ds;
}

const datasets = new Map<string, Promise<ImageSet>>();
const batches = new Map<string, Batch>();

/** Loads a spec's dataset once per process (each worker thread has its own cache). */
export function scoringDataset(d: ScoringData): Promise<ImageSet> {
  const key = dataKey(d);
  let p = datasets.get(key);
  if (p === undefined) {
    p = loadScoringDataset(d);
    datasets.set(key, p);
    // a failed load is not cached, so a corrected file can be retried in the same process
    p.catch(() => datasets.delete(key));
  }
  return p;
}

/** Scores one architecture with an already loaded dataset. Synchronous and deterministic except for `seconds`. */
export function scoreWithDataset(job: ScoringSpec, ds: ImageSet | ImageDataset): ScoringResult {
  const set = asImageSet(ds);
  const metrics = checkScoringSpec(job);
  const space = getSpace(job.space);
  let arch: string;
  try {
    arch = space.parse(job.arch);
  } catch (e) {
    throw new InputError(`unknown architecture '${job.arch}': ${(e as Error).message}`);
  }
  const { batch, classes } = job.config;
  if (classes < ds.classes) throw new InputError(`job config.classes is ${classes}, but ${ds.name} has ${ds.classes} classes`);
  const t0 = performance.now();
  const batchOf = (skip: number): Batch => {
    const bkey = `${dataKey(job.data)}|${batch}|${job.seed}|${skip}`;
    let b = batches.get(bkey);
    if (b === undefined) {
      b = scoringBatch(set, batch, job.seed, skip);
      batches.set(bkey, b);
    }
    return b;
  };
  const b = batchOf(0);
  // ZiCo compares gradients over two batches: the scoring batch and the next one of the same shuffle.
  const extraBatches = metrics.includes('zico') ? [batchOf(1)] : [];
  const net = buildNetwork(job.space, arch, job.config, [ds.channels, ds.height, ds.width]);
  const params = initParams(net, new Rng(seedStreams.scoringWeights(job.seed, arch)));
  const r = computeProxies(net, params, b, metrics, { seed: seedStreams.scoringDraws(job.seed, arch), extraBatches });
  const values: Record<string, MetricValue> = {};
  for (const m of metrics) values[m] = toMetricValue(r.values[m] ?? NaN);
  const out: ScoringResult = { arch, values, seconds: 0 };
  if (metrics.includes('synflow')) out.ln_synflow = toMetricValue(r.synflowLog ?? NaN);
  out.seconds = (performance.now() - t0) / 1000;
  return out;
}

/** Scores one architecture in this thread: loads the dataset (once per process), scores the architecture. */
export async function scoreArchitecture(job: ScoringSpec): Promise<ScoringResult> {
  checkScoringSpec(job);
  const ds = await matchedDataset(job.data, job.config.batch, job.seed);
  return scoreWithDataset(job, ds);
}
