/**
 * The scoring job: one architecture's training-free metrics (src/proxies/spec.ts describes and runs it).
 *
 *   { kind: 'score', space, arch, config: { channels, cells, batch, classes, metrics }, data: { dataset, dir?, split?, fingerprint }, seed, version }
 *     → { arch, values: { metric: value }, ln_synflow?, seconds }
 */
import type { ScoringResult, ScoringSpec } from '../proxies/spec.js';
import { queryKey } from '../util/key.js';
import { checkArchitecture, relocatedData, type JobKind } from './kind.js';

export interface ScoringJob extends ScoringSpec {
  kind: 'score';
}

export function scoringJob(spec: ScoringSpec): ScoringJob {
  return { kind: 'score', ...spec };
}

export const SCORING: JobKind<ScoringJob, ScoringResult> = {
  kind: 'score',
  key: (job) => `score-${queryKey(job)}`,
  subject: (job) => job.arch,
  check: checkArchitecture,
  relocate: (job, dir) => ({ ...job, data: relocatedData(job.data, dir) }),
  async warmUp() {
    await import('../proxies/spec.js');
  },
  async run(job) {
    const { scoreArchitecture } = await import('../proxies/spec.js');
    return scoreArchitecture(job);
  },
};
