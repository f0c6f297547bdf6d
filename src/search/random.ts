import type { QueryLedger } from '../objective/ledger.js';
import type { Rng } from '../util/rng.js';
import type { SearchContext, SearchMethod, SearchOutcome } from './types.js';

/** Number of distinct queries a search should end with: the budget, or fewer if the pool runs out. */
export function queryTarget(ctx: SearchContext): number {
  return Math.min(ctx.budget, ctx.pool.archs.length);
}

/**
 * A uniformly random pool index not yet queried, or -1 if every member has been queried.
 * Rejection sampling first (as the reference's `np.random.randint` loop); once it keeps hitting queried
 * members, an explicit list of the unqueried ones keeps the cost bounded when the pool is nearly used up.
 */
export function randomUnqueried(poolSize: number, ledger: QueryLedger, rng: Rng): number {
  if (ledger.count >= poolSize) return -1;
  for (let attempt = 0; attempt < 64; attempt++) {
    const i = rng.int(poolSize);
    if (!ledger.has(i)) return i;
  }
  const free: number[] = [];
  for (let i = 0; i < poolSize; i++) if (!ledger.has(i)) free.push(i);
  return free.length === 0 ? -1 : rng.pick(free);
}

/** Queries random unqueried members until the target is reached or the pool is used up. */
export async function fillRandomly(ctx: SearchContext, target: number): Promise<void> {
  const { ledger, rng, budget } = ctx;
  while (ledger.count < target) {
    const i = randomUnqueried(ctx.pool.archs.length, ledger, rng);
    if (i < 0) return;
    await ledger.query(i);
    ctx.onProgress?.(ledger.count, budget);
  }
}

/** Random search (RS): distinct uniformly random pool members until the budget is spent. */
export const randomSearch: SearchMethod = {
  name: 'RS',
  async run(ctx: SearchContext): Promise<SearchOutcome> {
    await fillRandomly(ctx, queryTarget(ctx));
    return { best: ctx.ledger.best() };
  },
};
