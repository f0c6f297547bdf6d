import type { QueryLedger } from '../objective/ledger.js';
import type { Rng } from '../util/rng.js';
import type { SearchContext, SearchMethod, SearchOutcome } from './types.js';

/** Number of distinct queries a search should end with: the budget, or fewer if the pool runs out. */
export function queryTarget(ctx: SearchContext): number {
  return Math.min(ctx.budget, ctx.pool.archs.length);
}

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

/**
 * Keeps `ledger.parallel` queries going until `target` distinct ones are done: `propose(round)` gives the next
 * pool index to query (`round`: indexes already picked in this synchronous round) or -1 when it has none now;
 * `done` hears every answer, in record order (an index already known is answered at once, without a job). Synchronous rounds by default, asynchronous with
 * `ctx.schedule = 'async'`. With one worker both are the plain sequential loop.
 */
export async function keepBusy(
  ctx: SearchContext,
  target: number,
  propose: (round: ReadonlySet<number>) => number,
  done: (index: number, value: number) => void = () => {},
): Promise<void> {
  const { ledger, budget } = ctx;
  const q = ledger.parallel;
  if (ctx.schedule === 'async') {
    for (;;) {
      while (ledger.inFlight < q && ledger.count + ledger.inFlight < target) {
        const i = propose(new Set());
        if (i < 0) break;
        if (ledger.has(i)) {
          done(i, ledger.peek(i)!);
          continue;
        }
        ledger.start(i);
      }
      const rec = await ledger.next();
      if (rec === undefined) return;
      ctx.onProgress?.(ledger.count, budget);
      done(rec.index, rec.value);
    }
  }
  while (ledger.count < target) {
    const round: number[] = [];
    const picked = new Set<number>();
    while (picked.size < q && ledger.count + picked.size < target) {
      const i = propose(picked);
      if (i < 0) break;
      // a known index costs nothing: its value is heard at once, as a sequential search would
      if (ledger.has(i)) done(i, ledger.peek(i)!);
      else if (!picked.has(i)) {
        picked.add(i);
        round.push(i);
      } else round.push(i);
    }
    if (round.length === 0) return;
    const before = ledger.count;
    const values = await ledger.round(round);
    if (ledger.count > before) ctx.onProgress?.(ledger.count, budget);
    round.forEach((i, k) => done(i, values[k]));
  }
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
