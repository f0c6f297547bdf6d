import type { Evaluation, Objective } from './types.js';

/** One distinct query, in the order it was made. */
export interface QueryRecord {
  readonly index: number;
  readonly value: number;
  readonly cost: number;
}

/**
 * Wraps an Objective with caching and cost accounting: the first query of an index calls the
 * oracle and is charged; a repeat is answered from the cache for free. Search methods only see
 * this, so "budget T" always means T distinct architectures.
 */
export class QueryLedger {
  private readonly cache = new Map<number, Evaluation>();
  private readonly pending = new Map<number, Promise<Evaluation>>();
  readonly history: QueryRecord[] = [];
  private spent = 0;

  constructor(
    private readonly objective: Objective,
    /** Called after each new (charged) query; e.g. to append it to a log file. */
    private readonly onQuery?: (record: QueryRecord) => void,
  ) {}

  /** Query an index; a cached index is returned without cost. */
  async query(index: number): Promise<number> {
    const hit = this.cache.get(index);
    if (hit) return hit.value;
    let p = this.pending.get(index);
    if (!p) {
      p = this.objective.evaluate(index);
      this.pending.set(index, p);
    }
    const ev = await p;
    if (!this.cache.has(index)) {
      this.cache.set(index, ev);
      this.pending.delete(index);
      this.spent += ev.cost;
      const rec = { index, value: ev.value, cost: ev.cost };
      this.history.push(rec);
      this.onQuery?.(rec);
    }
    return ev.value;
  }

  has(index: number): boolean {
    return this.cache.has(index);
  }

  /** Cached value of an already-queried index (undefined otherwise). */
  peek(index: number): number | undefined {
    return this.cache.get(index)?.value;
  }

  /** Number of distinct architectures queried so far. */
  get count(): number {
    return this.history.length;
  }

  /** Total cost (seconds) of all distinct queries. */
  get cost(): number {
    return this.spent;
  }

  /** The queried index with the best objective (first one on ties), or -1 if none. */
  best(): number {
    let bi = -1;
    let bv = -Infinity;
    for (const r of this.history) {
      if (r.value > bv) {
        bv = r.value;
        bi = r.index;
      }
    }
    return bi;
  }
}
