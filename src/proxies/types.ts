import type { Network } from '../networks/layers.js';
import type { ParamValues } from '../networks/params.js';

/** The seven reference metrics plus the two cost measures. */
export const METRIC_NAMES = ['grad_norm', 'snip', 'grasp', 'fisher', 'synflow', 'jacob_cov', 'naswot', 'params', 'flops'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

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
