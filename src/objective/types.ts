/** The result of one query of an architecture's true performance. */
export interface Evaluation {
  /** Objective value (higher is better), e.g. validation accuracy. */
  readonly value: number;
  /** Seconds the query cost (benchmark-recorded training time, or measured wall time). */
  readonly cost: number;
}

/**
 * The oracle a search queries: a benchmark lookup or a real training run. Indexes refer to the
 * search's candidate pool. Implementations may be slow; callers go through `QueryLedger`, which
 * caches results so a repeated query costs nothing and accounts for cost and order.
 */
export interface Objective {
  evaluate(index: number): Promise<Evaluation>;
}
