import type { Network } from '../networks/layers.js';
import type { ParamValues } from '../networks/params.js';

/** The seven reference metrics, the two cost measures, and the later metrics of issue 20 (ZiCo, MeCo, SWAP, AZ-NAS). */
export const METRIC_NAMES = [
  'grad_norm',
  'snip',
  'grasp',
  'fisher',
  'synflow',
  'jacob_cov',
  'naswot',
  'params',
  'flops',
  'zico',
  'meco',
  'swap',
  'az_expressivity',
  'az_progressivity',
  'az_trainability',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/**
 * What a metric reads: `none` — no data at all (the architecture and, for synflow and AZ-NAS, an input of ones or
 * of noise); `images` — training images but no labels; `labels` — images and their labels.
 */
export type MetricData = 'none' | 'images' | 'labels';

export const METRIC_DATA: Record<MetricName, MetricData> = {
  grad_norm: 'labels',
  snip: 'labels',
  grasp: 'labels',
  fisher: 'labels',
  synflow: 'none',
  jacob_cov: 'images',
  naswot: 'images',
  params: 'none',
  flops: 'none',
  zico: 'labels',
  meco: 'images',
  swap: 'images',
  az_expressivity: 'none',
  az_progressivity: 'none',
  az_trainability: 'none',
};

const DATA_LABEL: Record<MetricData, string> = { labels: 'need images and labels', images: 'need images, no labels', none: 'need no data' };

/** The metrics grouped by what they read, for --help: `grad_norm, … (need images and labels); …`. */
export function metricsByData(names: readonly MetricName[] = METRIC_NAMES): string {
  return (['labels', 'images', 'none'] as const)
    .map((d) => [names.filter((m) => METRIC_DATA[m] === d), d] as const)
    .filter(([ms]) => ms.length > 0)
    .map(([ms, d]) => `${ms.join(', ')} (${DATA_LABEL[d]})`)
    .join('; ');
}

/**
 * Version of the metric code: part of every stored metric row's key, bumped with every change that moves a value
 * (2: fisher and the other batch metrics read PyTorch's rounding on constant BatchNorm channels; new metrics.
 * 3: synflow on the one engine — values move by about 1e-7 relative from version 2).
 */
export const METRICS_CODE_VERSION = 3;

/** The metrics with reference values in the fixtures. */
export const REFERENCE_METRICS = ['grad_norm', 'snip', 'grasp', 'fisher', 'synflow', 'jacob_cov', 'naswot'] as const;
/** The six metrics of the RoBoT paper. */
export const PAPER_METRICS = ['grad_norm', 'snip', 'grasp', 'fisher', 'synflow', 'jacob_cov'] as const;

export function isMetricName(s: string): s is MetricName {
  return (METRIC_NAMES as readonly string[]).includes(s);
}

/** One input batch: images NCHW float32 (normalised) and integer class labels. */
export interface Batch {
  /** [n, c, h, w]. */
  shape: [number, number, number, number];
  x: Float32Array;
  targets: Int32Array;
}

/** What a metric sees: the network, its weights, the batch, and shared, lazily computed passes. */
export interface ProxyContext {
  readonly network: Network;
  readonly params: ParamValues;
  readonly batch: Batch;
  /** Every metric requested in this run, so shared passes compute what all of them need at once. */
  readonly requested: ReadonlySet<MetricName>;
  /** Seed of the draws a metric makes itself (SWAP's and AZ-NAS's weights, AZ-NAS's noise and Rademacher vectors). */
  readonly seed: number;
  /** Further batches of the same size, disjoint from `batch` (ZiCo's second batch). */
  readonly extraBatches: readonly Batch[];
  /** Memoised shared computation (the batch pass, SynFlow's pass). */
  shared<T>(key: string, compute: () => T): T;
}

/** A training-free metric. */
export interface Proxy {
  readonly name: MetricName;
  /** One-line definition (for --help and reports). */
  readonly description: string;
  compute(ctx: ProxyContext): number;
}
