import type { Evaluation, Objective } from './types.js';

/** Objective backed by a benchmark table: a lookup of recorded value and cost. */
export class TabularObjective implements Objective {
  constructor(
    private readonly values: ArrayLike<number>,
    private readonly costs: ArrayLike<number>,
  ) {}

  async evaluate(index: number): Promise<Evaluation> {
    const value = this.values[index];
    if (value === undefined || Number.isNaN(value)) {
      throw new RangeError(`no objective value recorded for pool index ${index}`);
    }
    return { value, cost: this.costs[index] ?? 0 };
  }
}
