import type { Evaluation, Objective } from './types.js';

/** One distinct query, in the order it was recorded. */
export interface QueryRecord {
  readonly index: number;
  readonly value: number;
  readonly cost: number;
  /** Simulated seconds (schedule of `parallel` workers, each query lasting its cost) when it started and ended. */
  readonly start: number;
  readonly end: number;
}

export interface LedgerOptions {
  /** Called after each new (charged) query is recorded; e.g. to append it to a log file. */
  onQuery?: (record: QueryRecord) => void;
  /** Workers of the simulated schedule behind `time` (default 1). */
  parallel?: number;
  /**
   * Which in-flight query `next()` hands back: 'simulated' (default) the one the schedule finishes first — exact
   * and deterministic for lookups, which answer at once; 'wall' the first whose evaluation really resolves (real
   * trainings running side by side).
   */
  clock?: 'simulated' | 'wall';
}

interface InFlight {
  index: number;
  promise: Promise<Evaluation>;
  settled?: { ok: true; ev: Evaluation } | { ok: false; err: unknown };
  /** Submission order (ties of the simulated schedule). */
  seq: number;
  /** Simulated start: when a worker was free after the submission; the worker (-1: more queries than workers). */
  startAt: number;
  worker: number;
}

/**
 * Wraps an Objective with caching, cost accounting and scheduling: the first query of an index calls the oracle
 * and is charged; a repeat is answered from the cache for free. Search methods only see this, so "budget T"
 * always means T distinct architectures. Queries run one at a time (`query`), in synchronous rounds (`round`:
 * all at once, recorded in the order given whatever order they finish in), or asynchronously (`start`/`next`).
 * `time` is the makespan of the schedule of `parallel` workers where each query takes its cost: the wall time
 * the search would take with that many workers.
 */
export class QueryLedger {
  private readonly cache = new Map<number, Evaluation>();
  private readonly flying = new Map<number, InFlight>();
  readonly history: QueryRecord[] = [];
  private spent = 0;
  private seq = 0;
  /** Simulated time now, and when each worker is next free. */
  private now = 0;
  private readonly free: number[];
  private readonly busy: boolean[];
  private makespan = 0;
  private readonly onQuery?: (record: QueryRecord) => void;
  private readonly clock: 'simulated' | 'wall';
  readonly parallel: number;

  constructor(
    private readonly objective: Objective,
    options: LedgerOptions | ((record: QueryRecord) => void) = {},
  ) {
    const o = typeof options === 'function' ? { onQuery: options } : options;
    this.onQuery = o.onQuery;
    this.parallel = o.parallel ?? 1;
    if (!(Number.isInteger(this.parallel) && this.parallel >= 1)) throw new RangeError(`QueryLedger: parallel must be a positive integer, got ${this.parallel}`);
    this.clock = o.clock ?? 'simulated';
    this.free = new Array<number>(this.parallel).fill(0);
    this.busy = new Array<boolean>(this.parallel).fill(false);
  }

  /** Query one index and wait for it; a cached index is returned without cost. */
  async query(index: number): Promise<number> {
    return (await this.round([index]))[0];
  }

  /**
   * A synchronous round: every index not yet known is evaluated at once (an index given twice runs once), the
   * round ends when all have finished, and new queries are recorded in the order given — so the history does
   * not depend on which evaluation finished first. Returns the values in the order given.
   */
  async round(indices: readonly number[]): Promise<number[]> {
    const fresh = [...new Set(indices)].filter((i) => !this.cache.has(i));
    for (const i of fresh) this.start(i);
    const settled = await Promise.allSettled(fresh.map((i) => this.flying.get(i)!.promise));
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) {
      for (const i of fresh) this.drop(i);
      throw (failed as PromiseRejectedResult).reason;
    }
    let end = this.now;
    for (const i of fresh) {
      const rec = this.record(this.flying.get(i)!, (settled[fresh.indexOf(i)] as PromiseFulfilledResult<Evaluation>).value);
      end = Math.max(end, rec.end);
    }
    this.now = end;
    return indices.map((i) => this.cache.get(i)!.value);
  }

  /** Starts evaluating an index without waiting (no-op if it is known or already running). */
  start(index: number): void {
    if (this.cache.has(index) || this.flying.has(index)) return;
    // the earliest-free idle worker of the simulated schedule; beyond `parallel` queries, one starts at once
    let w = -1;
    for (let k = 0; k < this.free.length; k++) if (!this.busy[k] && (w < 0 || this.free[k] < this.free[w])) w = k;
    if (w >= 0) this.busy[w] = true;
    const startAt = w < 0 ? this.now : Math.max(this.now, this.free[w]);
    const f: InFlight = { index, promise: this.objective.evaluate(index), seq: this.seq++, startAt, worker: w };
    f.promise.then(
      (ev) => (f.settled = { ok: true, ev }),
      (err: unknown) => (f.settled = { ok: false, err }),
    );
    this.flying.set(index, f);
  }

  /** Queries started and not yet recorded. */
  get inFlight(): number {
    return this.flying.size;
  }

  /** Whether the index is running (started, not yet recorded). */
  isPending(index: number): boolean {
    return this.flying.has(index);
  }

  /** Whether the index is known or running: a new query of it would run nothing new. */
  isTaken(index: number): boolean {
    return this.cache.has(index) || this.flying.has(index);
  }

  /**
   * The next in-flight query to finish (see LedgerOptions.clock), recorded; undefined when none is running.
   * With the simulated clock all in-flight evaluations are awaited and the one the schedule ends first wins.
   */
  async next(): Promise<QueryRecord | undefined> {
    if (this.flying.size === 0) return undefined;
    const all = [...this.flying.values()];
    let pick: InFlight;
    if (this.clock === 'wall') {
      pick = await Promise.race(all.map((f) => f.promise.then(() => f, () => f)));
    } else {
      await Promise.allSettled(all.map((f) => f.promise));
      // the simulated schedule: each started at its submission, ending after its cost
      pick = all.reduce((a, b) => {
        // a failure is handed back first
        const ea = a.settled?.ok ? a.startAt + a.settled.ev.cost : -Infinity;
        const eb = b.settled?.ok ? b.startAt + b.settled.ev.cost : -Infinity;
        return eb < ea || (eb === ea && b.seq < a.seq) ? b : a;
      });
    }
    const s = pick.settled ?? (await pick.promise.then((ev) => ({ ok: true as const, ev }), (err: unknown) => ({ ok: false as const, err })));
    if (!s.ok) {
      this.drop(pick.index);
      throw s.err;
    }
    const rec = this.record(pick, s.ev);
    this.now = Math.max(this.now, rec.end);
    return rec;
  }

  /** Forgets a failed in-flight query (its worker is free again). */
  private drop(index: number): void {
    const f = this.flying.get(index);
    if (f === undefined) return;
    this.flying.delete(index);
    if (f.worker >= 0) this.busy[f.worker] = false;
  }

  /** Caches, charges and records one finished evaluation. */
  private record(f: InFlight, ev: Evaluation): QueryRecord {
    this.flying.delete(f.index);
    const start = f.startAt;
    const end = start + ev.cost;
    if (f.worker >= 0) {
      this.free[f.worker] = end;
      this.busy[f.worker] = false;
    }
    this.makespan = Math.max(this.makespan, end);
    this.cache.set(f.index, ev);
    this.spent += ev.cost;
    const rec: QueryRecord = { index: f.index, value: ev.value, cost: ev.cost, start, end };
    this.history.push(rec);
    this.onQuery?.(rec);
    return rec;
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

  /** Simulated wall seconds until the last recorded query ended, with `parallel` workers. */
  get time(): number {
    return this.makespan;
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
