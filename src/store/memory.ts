import { cleanRecord, isStoredResult } from './records.js';
import type { Claim, ResultStore, StoredResult } from './types.js';

/** A store in this process only (tests, `--no-cache`); claims only guard against this process itself. */
export class MemoryStore implements ResultStore {
  private readonly byKey = new Map<string, StoredResult>();
  private readonly claimed = new Set<string>();
  readonly leaseMs = Infinity;
  readonly location?: string;

  get(key: string): StoredResult | undefined {
    return this.byKey.get(key);
  }

  put(rec: StoredResult): void {
    if (!isStoredResult(rec)) throw new Error(`MemoryStore.put: malformed record for '${String((rec as { arch?: unknown }).arch)}'`);
    this.byKey.set(rec.key, cleanRecord(rec));
  }

  scan(): StoredResult[] {
    return [...this.byKey.values()];
  }

  claim(key: string): Claim | undefined {
    if (this.claimed.has(key)) return undefined;
    this.claimed.add(key);
    return { key, renew() {}, release: () => void this.claimed.delete(key) };
  }
}
