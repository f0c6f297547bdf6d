import type { QueryLedger } from '../objective/ledger.js';
import type { Rng } from '../util/rng.js';
import { keepBusy, queryTarget } from './schedule.js';
import type { SearchContext, SearchMethod, SearchOutcome } from './types.js';

/**
 * A uniformly random pool index neither queried, running, nor in `extra` (this round's picks), or -1 if there is
 * none. Rejection sampling first (as the reference's `np.random.randint` loop); once it keeps hitting taken
 * members, an explicit list of the free ones keeps the cost bounded when the pool is nearly used up.
 */
export function randomUnqueried(poolSize: number, ledger: QueryLedger, rng: Rng, extra: ReadonlySet<number> = new Set()): number {
  const taken = (i: number): boolean => ledger.isTaken(i) || extra.has(i);
  if (ledger.count + ledger.inFlight + extra.size >= poolSize) {
    // (an upper bound on taken members; the explicit list below decides)
    const free: number[] = [];
    for (let i = 0; i < poolSize; i++) if (!taken(i)) free.push(i);
    return free.length === 0 ? -1 : rng.pick(free);
  }
  for (let attempt = 0; attempt < 64; attempt++) {
    const i = rng.int(poolSize);
    if (!taken(i)) return i;
  }
  const free: number[] = [];
  for (let i = 0; i < poolSize; i++) if (!taken(i)) free.push(i);
  return free.length === 0 ? -1 : rng.pick(free);
}

/** Queries random unqueried members until the target is reached or the pool is used up. */
export async function fillRandomly(ctx: SearchContext, target: number): Promise<void> {
  await keepBusy(ctx, target, (round) => randomUnqueried(ctx.pool.archs.length, ctx.ledger, ctx.rng, round));
}

/** Random search (RS): distinct uniformly random pool members until the budget is spent, `parallel` at a time. */
export const randomSearch: SearchMethod = {
  name: 'RS',
  async run(ctx: SearchContext): Promise<SearchOutcome> {
    await fillRandomly(ctx, queryTarget(ctx));
    return { best: ctx.ledger.best() };
  },
};
