import type { SearchSpace } from '../spaces/types.js';
import type { QueryLedger } from '../objective/ledger.js';
import { SettingError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';

/**
 * The candidate pool a search runs on: architectures of one space, with their raw training-free
 * metric values (NaN = missing). Pool indexes are what the objective is queried with.
 */
export interface Pool {
  readonly space: SearchSpace;
  readonly archs: readonly string[];
  /** canonical arch → pool index */
  readonly indexOf: ReadonlyMap<string, number>;
  /** metric name → raw values per pool index (NaN = missing) */
  readonly metrics: ReadonlyMap<string, Float64Array>;
}

/** What every search method receives: the pool, the query ledger (objective + cache + cost), the budget and a seeded RNG. */
export interface SearchContext {
  readonly pool: Pool;
  readonly ledger: QueryLedger;
  /** T: the number of distinct architectures the search may query. */
  readonly budget: number;
  readonly rng: Rng;
  /** The run's seed (rng is seeded with it), for methods that replay a reference stream. */
  readonly seed?: number;
  /** Optional progress hook (queries made so far); pure code never prints. */
  readonly onProgress?: (queried: number, budget: number) => void;
  /**
   * How a method keeps `ledger.parallel` workers busy: 'sync' (default) proposes that many queries, waits for
   * all, updates — the result depends on the seed and the parallelism only; 'async' proposes a new query as
   * soon as one finishes (better for uneven query times; the order of finishing then matters).
   */
  readonly schedule?: Schedule;
}

export type Schedule = 'sync' | 'async';

/** A method's answer. The query order and costs live in the ledger. */
export interface SearchOutcome {
  /** Pool index of the returned architecture (the queried one with the best objective). */
  readonly best: number;
  /** RoBoT: number of distinct architectures queried during Bayesian optimisation. */
  readonly t0?: number;
  /** RoBoT: the learned metric weights (best w). */
  readonly weights?: Readonly<Record<string, number>>;
  /** Any other figures the method wants reported. */
  readonly extras?: Readonly<Record<string, unknown>>;
}

export interface SearchMethod {
  readonly name: string;
  run(ctx: SearchContext): Promise<SearchOutcome>;
}

/** Build a pool from parallel arrays. */
export function makePool(space: SearchSpace, archs: readonly string[], metrics: ReadonlyMap<string, Float64Array>): Pool {
  const indexOf = new Map<string, number>();
  archs.forEach((a, i) => indexOf.set(a, i));
  return { space, archs, indexOf, metrics };
}

/** A budget the pool can honour: T distinct queries need at least T architectures (else a search never ends). */
export function checkBudget(poolSize: number, budget: number, what = 'the pool'): void {
  if (!(Number.isInteger(budget) && budget >= 1)) throw new SettingError('budget', `expected a positive integer, got ${budget}`);
  if (budget > poolSize) throw new SettingError('budget', `${budget} distinct queries requested, but ${what} has only ${poolSize} architectures`);
}
