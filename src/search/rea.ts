import type { SearchContext, SearchMethod, SearchOutcome } from './types.js';
import { randomUnqueried } from './random.js';
import { keepBusy, queryTarget } from './schedule.js';

export interface ReaOptions {
  /** Population size; default floor(T / 3) as in the reference (at least 1). */
  readonly populationSize?: number;
}

/** Cap on `space.mutate` retries when a qualifying neighbour is known to exist. */
const MUTATION_ATTEMPTS = 200;

/**
 * Regularised evolution as in RoBoT's reference baseline: a random initial population, then repeatedly
 * the best member is mutated into a new, unqueried pool member.
 */
export function createRea(options: ReaOptions = {}): SearchMethod {
  return {
    name: 'REA',
    async run(ctx: SearchContext): Promise<SearchOutcome> {
      const { pool, ledger, rng, budget } = ctx;
      const n = pool.archs.length;
      const target = queryTarget(ctx);
      const popSize = Math.max(1, options.populationSize ?? Math.floor(budget / 3));

      // Initial population sampled with replacement (the reference's np.random.randint); a duplicate
      // is a free repeat query but still occupies a population slot.
      const population: { value: number; index: number }[] = [];
      let drawn = 0;
      await keepBusy(
        ctx,
        target,
        () => (drawn < popSize ? (drawn++, rng.int(n)) : -1),
        (index, value) => population.push({ value, index }),
      );

      // The reference sorts the population and pops its best member (rather than ageing out the oldest as in
      // Real et al.), so the parent leaves the population and its child takes the slot. Stable sort: ties go to
      // the earlier member, as Python's sorted. With several workers, each round (or each free worker) takes the
      // next parent from the population as it stands.
      await keepBusy(
        ctx,
        target,
        (round) => {
          population.sort((a, b) => b.value - a.value);
          const parent = population.shift();
          return parent === undefined ? randomUnqueried(n, ledger, rng, round) : mutateIntoPool(ctx, pool.archs[parent.index], round);
        },
        (index, value) => population.push({ value, index }),
      );
      return { best: ledger.best(), extras: { populationSize: popSize } };
    },
  };
}

/**
 * A mutation of `arch` that is in the pool and not yet queried. The reference retries `mutate` until it gets
 * one and would loop forever when no neighbour qualifies; here the qualifying neighbours are listed first
 * (with a pool that is a small subset of the space there often are none), and then, if any exist, `mutate`
 * is retried as in the reference (capped; a uniform qualifying neighbour after the cap). With no qualifying
 * neighbour a random unqueried pool member is taken.
 */
function mutateIntoPool(ctx: SearchContext, arch: string, round: ReadonlySet<number>): number {
  const { pool, ledger, rng } = ctx;
  const eligible = (a: string): number => {
    const i = pool.indexOf.get(a);
    return i === undefined || ledger.isTaken(i) || round.has(i) ? -1 : i;
  };
  const options = pool.space
    .neighbours(arch)
    .map(eligible)
    .filter((i) => i >= 0);
  if (options.length === 0) return randomUnqueried(pool.archs.length, ledger, rng, round);
  for (let attempt = 0; attempt < MUTATION_ATTEMPTS; attempt++) {
    const i = eligible(pool.space.mutate(arch, rng));
    if (i >= 0) return i;
  }
  return rng.pick(options);
}

/** REA with the reference's defaults. */
export const rea: SearchMethod = createRea();
