/**
 * Why a search returned what it returned, from what it learned and queried: which metrics the learned
 * combination leans on, what each metric alone would have picked among the queried architectures (and how that
 * compares with the answer), and where Bayesian optimisation ended and exploitation began. Pure: no I/O.
 */
import type { Pool } from './types.js';

export interface MetricLean {
  readonly metric: string;
  /** The learned weight on the metric's normalised column ([-1, 1]; negative: lower values rank higher). */
  readonly weight: number;
  /** |weight| as a share of Σ|weights| (0–1): how much of the combination this metric carries. */
  readonly share: number;
}

export interface SinglePick {
  readonly metric: string;
  /** The queried architecture with the metric's highest value (what the metric alone would have picked among them). */
  readonly index: number;
  readonly arch: string;
  /** 1-based query number of that architecture, and its objective. */
  readonly query: number;
  readonly value: number;
  /** Its objective minus the answer's (≤ 0: the answer is at least as good). */
  readonly gap: number;
}

export interface SearchExplanation {
  /** Metrics by their share of the learned combination, largest first (empty without learned weights). */
  readonly leans: MetricLean[];
  /** Per metric, in the pool's metric order. */
  readonly singles: SinglePick[];
  /** Queries 1..bo were Bayesian optimisation of the weights; exploitation started at query bo + 1 (null: never). */
  readonly phases: { readonly bo: number; readonly exploitation: number; readonly exploitationStartedAt: number | null } | null;
}

/** A query as the explanation needs it: the pool index and its objective, in the order they were made. */
export interface ExplainedQuery {
  readonly index: number;
  readonly value: number;
}

export function explainSearch(
  pool: Pool,
  metrics: readonly string[],
  queries: readonly ExplainedQuery[],
  answer: number,
  weights: Readonly<Record<string, number>> | undefined,
  t0: number | undefined,
): SearchExplanation {
  const leans: MetricLean[] = [];
  if (weights) {
    const names = metrics.filter((m) => weights[m] !== undefined && Number.isFinite(weights[m]));
    let total = 0;
    for (const m of names) total += Math.abs(weights[m]);
    for (const m of names) leans.push({ metric: m, weight: weights[m], share: total > 0 ? Math.abs(weights[m]) / total : 0 });
    leans.sort((a, b) => b.share - a.share || metrics.indexOf(a.metric) - metrics.indexOf(b.metric));
  }
  const answerValue = queries.find((q) => q.index === answer)?.value ?? NaN;
  const singles: SinglePick[] = [];
  for (const m of metrics) {
    const col = pool.metrics.get(m);
    if (!col) continue;
    let pick = -1;
    for (let k = 0; k < queries.length; k++) {
      const v = col[queries[k].index];
      if (!Number.isFinite(v)) continue;
      // The first queried among ties, so the pick does not depend on anything but the query order.
      if (pick < 0 || v > col[queries[pick].index]) pick = k;
    }
    if (pick < 0) continue;
    const q = queries[pick];
    singles.push({ metric: m, index: q.index, arch: pool.archs[q.index], query: pick + 1, value: q.value, gap: q.value - answerValue });
  }
  const phases =
    t0 === undefined
      ? null
      : { bo: t0, exploitation: Math.max(0, queries.length - t0), exploitationStartedAt: queries.length > t0 ? t0 + 1 : null };
  return { leans, singles, phases };
}
