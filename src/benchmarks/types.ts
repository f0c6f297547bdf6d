import type { SearchSpace } from '../spaces/types.js';

/**
 * A tabular benchmark: a set of architectures of one space with, for each, a queryable objective
 * (validation accuracy and the seconds it cost to obtain), a final metric (what tables report:
 * test accuracy or the task's performance) and any number of training-free metric columns.
 * Unknown values are NaN.
 */
export interface Benchmark {
  /** `nb201`, `tnb101-micro`, `tnb101-macro`, or a user label. */
  readonly benchmark: string;
  /** Task name (e.g. `cifar10`, `class_scene`). */
  readonly task: string;
  readonly space: SearchSpace;
  /** Where the data came from (file paths), for reports. */
  readonly sources: readonly string[];
  /** Canonical architecture strings, unique. */
  readonly archs: readonly string[];
  /** Objective a search may query (e.g. 12-epoch validation accuracy); higher is better. */
  readonly objective: Float64Array;
  /** Seconds one objective query costs; 0 where unknown. */
  readonly cost: Float64Array;
  /** Final metric reported for the returned architecture; higher is better. */
  readonly final: Float64Array;
  /** Training-free metric columns by name (the data's column or key names); NaN = missing. */
  readonly metrics: ReadonlyMap<string, Float64Array>;
  /** Human-readable names of the objective and final columns, for reports. */
  readonly objectiveName: string;
  readonly finalName: string;
  /** Set when the data had no final-metric column and the objective stands in for it: why, for reports. */
  readonly finalNote?: string;
}
