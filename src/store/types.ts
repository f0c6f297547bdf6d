/**
 * Where finished queries live: a store of results by key (the hash of the job that produced them), shared by
 * searches, resumed runs and — for file stores — several processes at once. A key being computed by one
 * process is claimed, so that another process waits for its result instead of computing it again; a claim
 * carries a lease, so a crashed claimer blocks nobody for long.
 */

/** One finished query. */
export interface StoredResult {
  /** Hash of everything the result depends on (the job, plus the code version). */
  key: string;
  /** The architecture's string form, for humans and reports. */
  arch: string;
  value: number;
  /** Seconds the original query took. */
  cost: number;
  details?: Record<string, unknown>;
  /** ISO time the query finished. */
  finished: string;
}

/** The right to compute one key, held until released (or until its lease runs out unrenewed). */
export interface Claim {
  readonly key: string;
  /** Extends the lease (call well within it while the work runs). */
  renew(): void;
  release(): void;
}

export interface ResultStore {
  /** The result of a key, including results other processes stored since this one last looked. */
  get(key: string): StoredResult | undefined;
  /** Stores a result durably (a crash after `put` keeps it). A later result for the same key wins. */
  put(rec: StoredResult): void;
  /** Every stored result (the current one per key). */
  scan(): StoredResult[];
  /** Claims a key; undefined while another live holder has it. */
  claim(key: string): Claim | undefined;
  /** How long a claim lasts without renewal (ms). */
  readonly leaseMs: number;
  /** A file or folder for messages, if the store has one. */
  readonly location?: string;
}
