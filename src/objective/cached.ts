/**
 * An Objective for expensive queries (real trainings) backed by the on-disk QueryCache: an
 * architecture already trained under the same key is answered from the cache, so a resumed or
 * repeated search skips the training but still reports the original cost, keeping budgets and
 * cost totals identical to an uninterrupted run.
 */
import type { QueryCache } from './query-cache.js';
import type { Evaluation, Objective } from './types.js';

/** What one fresh query produced. */
export interface QueryRun {
  value: number;
  /** Seconds the query took. */
  seconds: number;
  details?: Record<string, unknown>;
}

/** Reported for every evaluation, fresh or cached (e.g. for progress output or logs). */
export interface QueryEvent {
  index: number;
  arch: string;
  key: string;
  value: number;
  cost: number;
  cached: boolean;
  details?: Record<string, unknown>;
}

export interface CachedObjectiveOptions {
  /** Candidate pool: `evaluate(i)` queries `archs[i]`. */
  archs: readonly string[];
  /** Cache key of an architecture (see `queryKey`); it must cover everything the result depends on. */
  keyOf: (arch: string) => string;
  /** Runs the expensive query. */
  run: (arch: string, index: number) => Promise<QueryRun>;
  cache: QueryCache;
  onQuery?: (e: QueryEvent) => void;
}

export class CachedObjective implements Objective {
  private readonly opts: CachedObjectiveOptions;
  // Concurrent queries of the same key share one run instead of training twice.
  private readonly pending = new Map<string, Promise<QueryRun>>();
  private fresh = 0;
  private nHits = 0;
  private nMisses = 0;

  constructor(opts: CachedObjectiveOptions) {
    this.opts = opts;
  }

  async evaluate(index: number): Promise<Evaluation> {
    const { archs, keyOf, run, cache, onQuery } = this.opts;
    if (!Number.isInteger(index) || index < 0 || index >= archs.length) {
      throw new RangeError(`CachedObjective: index ${index} outside the pool of ${archs.length}`);
    }
    const arch = archs[index];
    const key = keyOf(arch);
    const rec = cache.get(key);
    if (rec) {
      this.nHits++;
      onQuery?.({ index, arch, key, value: rec.value, cost: rec.cost, cached: true, details: rec.details });
      return { value: rec.value, cost: rec.cost };
    }
    const inFlight = this.pending.get(key);
    if (inFlight) {
      const r = await inFlight;
      this.nHits++;
      onQuery?.({ index, arch, key, value: r.value, cost: r.seconds, cached: true, details: r.details });
      return { value: r.value, cost: r.seconds };
    }
    const p = this.runOnce(arch, index, key, run);
    this.pending.set(key, p);
    let r: QueryRun;
    try {
      r = await p;
    } finally {
      this.pending.delete(key);
    }
    onQuery?.({ index, arch, key, value: r.value, cost: r.seconds, cached: false, details: r.details });
    return { value: r.value, cost: r.seconds };
  }

  /** Runs, validates and stores one query. */
  private async runOnce(arch: string, index: number, key: string, run: CachedObjectiveOptions['run']): Promise<QueryRun> {
    const r = await run(arch, index);
    if (!Number.isFinite(r.value)) throw new Error(`query of ${arch} returned a non-finite value (${r.value})`);
    if (!Number.isFinite(r.seconds) || r.seconds < 0) throw new Error(`query of ${arch} reported invalid seconds (${r.seconds})`);
    this.opts.cache.put({
      key,
      arch,
      value: r.value,
      cost: r.seconds,
      ...(r.details !== undefined ? { details: r.details } : {}),
      finished: new Date().toISOString(),
    });
    this.fresh += r.seconds;
    this.nMisses++;
    return r;
  }

  /** Seconds actually spent training in this process (cache hits excluded). */
  get freshSeconds(): number {
    return this.fresh;
  }

  /** Evaluations answered without running (from the cache or a concurrent run of the same key). */
  get hits(): number {
    return this.nHits;
  }

  /** Evaluations that ran the query. */
  get misses(): number {
    return this.nMisses;
  }
}
