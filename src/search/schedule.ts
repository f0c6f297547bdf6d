/**
 * How a search keeps its workers busy: the batch scheduling every method shares. A method only says which pool index
 * it would query next; `keepBusy` turns that into synchronous rounds of `ledger.parallel` queries (the result depends
 * on the seed and the parallelism only) or asynchronous proposals as workers free up.
 */
import type { SearchContext } from './types.js';

/** Number of distinct queries a search should end with: the budget, or fewer if the pool runs out. */
export function queryTarget(ctx: SearchContext): number {
  return Math.min(ctx.budget, ctx.pool.archs.length);
}

/**
 * Keeps `ledger.parallel` queries going until `target` distinct ones are done: `propose(round)` gives the next
 * pool index to query (`round`: indexes already picked in this synchronous round) or -1 when it has none now;
 * `done` hears every answer, in record order (an index already known is answered at once, without a job).
 * Synchronous rounds by default, asynchronous with `ctx.schedule = 'async'`. With one worker both are the plain sequential loop.
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
