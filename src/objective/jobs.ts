/**
 * The objective of a real search: a query of an architecture runs its job (a training) on a runner and stores
 * the result under the job's key. A key already in the store is answered from it (a resumed run, another
 * method on the same pool, another process); a key another process is computing is waited for, not computed
 * twice (the store's claim, renewed while the job runs); the same key asked twice in this process runs once.
 * Cached answers report the original cost, so budgets and costs of a resumed run equal an uninterrupted one.
 */
import type { JobEvent, Runner } from '../runner/types.js';
import type { ResultStore } from '../store/types.js';
import type { Evaluation, Objective } from './types.js';

/** What a job's result means as a query: the objective value, its cost, and details worth keeping. */
export interface QueryValue {
  value: number;
  seconds: number;
  details?: Record<string, unknown>;
}

/** Reported for every evaluation, fresh or cached (progress output, logs). */
export interface QueryEvent {
  index: number;
  arch: string;
  key: string;
  value: number;
  cost: number;
  /** Answered from the store (trained earlier, or by another process). */
  cached: boolean;
  details?: Record<string, unknown>;
}

export interface JobObjectiveOptions<J, R> {
  /** Candidate pool: `evaluate(i)` queries `archs[i]`. */
  archs: readonly string[];
  jobOf(arch: string): J;
  keyOf(job: J): string;
  valueOf(result: R): QueryValue;
  runner: Runner<J, R>;
  store: ResultStore;
  /** After each evaluation (in completion order). */
  onQuery?(e: QueryEvent): void;
  /** A fresh job's events (start, steps). */
  onJobEvent?(index: number, arch: string, e: JobEvent): void;
  /** A key another process holds: this process waits for its result. */
  onWait?(index: number, arch: string): void;
  /** Polling interval while waiting for another process (ms, default 500). */
  pollMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class JobObjective<J, R> implements Objective {
  private readonly pending = new Map<string, Promise<QueryEvent>>();
  private readonly events = new Map<number, QueryEvent>();
  private fresh = 0;
  private nHits = 0;
  private nMisses = 0;

  constructor(private readonly o: JobObjectiveOptions<J, R>) {}

  async evaluate(index: number): Promise<Evaluation> {
    const { archs, store } = this.o;
    if (!Number.isInteger(index) || index < 0 || index >= archs.length) {
      throw new RangeError(`JobObjective: index ${index} outside the pool of ${archs.length}`);
    }
    const arch = archs[index];
    const job = this.o.jobOf(arch);
    const key = this.o.keyOf(job);
    let e: QueryEvent;
    const rec = store.get(key);
    if (rec) {
      this.nHits++;
      e = { index, arch, key, value: rec.value, cost: rec.cost, cached: true, ...(rec.details !== undefined ? { details: rec.details } : {}) };
    } else {
      let p = this.pending.get(key);
      const mine = p === undefined;
      if (p === undefined) {
        p = this.compute(index, arch, job, key);
        this.pending.set(key, p);
      }
      try {
        e = { ...(await p), index };
      } finally {
        if (mine) this.pending.delete(key);
      }
      if (!mine) {
        this.nHits++;
        e = { ...e, cached: true };
      }
    }
    this.events.set(index, e);
    this.o.onQuery?.(e);
    return { value: e.value, cost: e.cost };
  }

  /** The last evaluation of a pool index (its key, whether cached, details). */
  eventOf(index: number): QueryEvent | undefined {
    return this.events.get(index);
  }

  /** Claims the key (waiting while another live process holds it), runs the job, stores the result. */
  private async compute(index: number, arch: string, job: J, key: string): Promise<QueryEvent> {
    const { store } = this.o;
    let waited = false;
    for (;;) {
      const claim = store.claim(key);
      if (claim) {
        try {
          // finished by another process between our look and our claim
          const done = store.get(key);
          if (done) {
            this.nHits++;
            return { index, arch, key, value: done.value, cost: done.cost, cached: true, ...(done.details !== undefined ? { details: done.details } : {}) };
          }
          const renew = Number.isFinite(store.leaseMs) ? setInterval(() => claim.renew(), Math.max(1000, store.leaseMs / 3)) : undefined;
          renew?.unref();
          let result: R;
          try {
            result = await this.o.runner.run(job, { onEvent: (ev) => this.o.onJobEvent?.(index, arch, ev) });
          } finally {
            if (renew) clearInterval(renew);
          }
          const q = this.o.valueOf(result);
          if (!Number.isFinite(q.value)) throw new Error(`query of ${arch} returned a non-finite value (${q.value})`);
          if (!Number.isFinite(q.seconds) || q.seconds < 0) throw new Error(`query of ${arch} reported invalid seconds (${q.seconds})`);
          store.put({ key, arch, value: q.value, cost: q.seconds, ...(q.details !== undefined ? { details: q.details } : {}), finished: new Date().toISOString() });
          this.fresh += q.seconds;
          this.nMisses++;
          return { index, arch, key, value: q.value, cost: q.seconds, cached: false, ...(q.details !== undefined ? { details: q.details } : {}) };
        } finally {
          claim.release();
        }
      }
      if (!waited) this.o.onWait?.(index, arch);
      waited = true;
      await sleep(this.o.pollMs ?? 500);
      const done = store.get(key);
      if (done) {
        this.nHits++;
        return { index, arch, key, value: done.value, cost: done.cost, cached: true, ...(done.details !== undefined ? { details: done.details } : {}) };
      }
    }
  }

  /** Seconds actually spent computing in this process (store hits excluded). */
  get freshSeconds(): number {
    return this.fresh;
  }

  /** Evaluations answered without running here (the store, or another evaluation of the same key). */
  get hits(): number {
    return this.nHits;
  }

  /** Jobs this process ran. */
  get misses(): number {
    return this.nMisses;
  }
}
