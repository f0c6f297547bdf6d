/**
 * The result store as one JSON Lines file (`query-cache.jsonl`), one record appended per finished query, safe
 * for several processes at once:
 * - appends take a short lock (`<file>.lock`), repair a torn last line left by a crash (cut it off, or restore
 *   the missing newline of a complete record), then write their line in one call, so lines never interleave;
 * - readers never lock: they read what was appended since they last looked and leave an unfinished last line
 *   for later;
 * - claims are lock files in `<file>.claims/`, one per key being computed, renewed while the work runs.
 * A malformed record before the last line is an InputError naming the line: it is not a crash artifact, and
 * dropping it silently would throw away a training.
 */
import { appendFileSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, truncateSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inputError } from '../util/errors.js';
import { lockSync, tryLock } from './locks.js';
import { cleanRecord, isStoredResult } from './records.js';
import type { Claim, ResultStore, StoredResult } from './types.js';

/** Default claim lease: a claimer renews every third of it, so only a dead or frozen one loses its claim. */
export const DEFAULT_LEASE_MS = 60_000;

function readFrom(file: string, offset: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size <= offset) return Buffer.alloc(0);
    const buf = Buffer.alloc(size - offset);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/**
 * Why `file` is not a query cache robot-nas may append to, and the line judged (undefined: absent, empty, or one of
 * ours). Only the first line with text is read: a record, or the start of one cut by a crash. A store repairs its last line on opening, so a file of
 * someone else (`--cache notes.txt`) must be refused before that, never cut.
 */
export function notAStore(file: string): { line: number; message: string } | undefined {
  if (!existsSync(file)) return undefined;
  let head: Buffer;
  try {
    const fd = openSync(file, 'r');
    try {
      head = Buffer.alloc(Math.min(fstatSync(fd).size, 1 << 16));
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    return { line: 1, message: `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})` };
  }
  const text = head.toString('utf8');
  if (text.trim() === '') return undefined;
  // blank lines are skipped, as the store skips them: the first line with text is judged
  let start = 0;
  let line = 1;
  for (let nl = text.indexOf('\n'); nl >= 0 && text.slice(start, nl).trim() === ''; nl = text.indexOf('\n', start)) {
    start = nl + 1;
    line++;
  }
  const nl = text.indexOf('\n', start);
  const first = nl < 0 ? text.slice(start) : text.slice(start, nl);
  let ok: boolean;
  if (nl < 0 && head.length < 1 << 16) ok = first.startsWith('{"key":"');
  else {
    try {
      ok = isStoredResult(JSON.parse(first));
    } catch {
      ok = false;
    }
  }
  return ok
    ? undefined
    : { line, message: 'is not a robot-nas query cache (its first line is not a query record {key, arch, value, cost, finished}); robot-nas never modifies a file it did not write' };
}

export class JsonlStore implements ResultStore {
  private readonly byKey = new Map<string, StoredResult>();
  /** Bytes of the file consumed so far (always just after a newline). */
  private offset = 0;
  private lineNo = 0;
  private readonly claimsDir: string;

  private constructor(
    readonly file: string,
    readonly leaseMs: number,
  ) {
    this.claimsDir = `${file}.claims`;
  }

  get location(): string {
    return this.file;
  }

  /** Opens (or starts) the store in `file`, creating its folder; repairs a torn last line. */
  static open(file: string, leaseMs = DEFAULT_LEASE_MS): JsonlStore {
    mkdirSync(dirname(file), { recursive: true });
    const store = new JsonlStore(file, leaseMs);
    const foreign = notAStore(file);
    if (foreign !== undefined) throw inputError(file, foreign.line, foreign.message);
    if (existsSync(file)) {
      store.withAppendLock(() => store.repairTail());
      store.refresh();
    }
    return store;
  }

  /** Runs `fn` holding the append lock. */
  private withAppendLock<T>(fn: () => T): T {
    const lock = lockSync(`${this.file}.lock`, 30_000);
    try {
      return fn();
    } finally {
      lock.release();
    }
  }

  /**
   * With the append lock held: cuts off a torn last record (a write a crash interrupted: it does not parse),
   * or restores the missing newline of a complete one, so later appends stay well-formed.
   */
  private repairTail(): void {
    if (!existsSync(this.file)) return;
    const fd = openSync(this.file, 'r');
    let size: number;
    let tail: Buffer;
    try {
      size = fstatSync(fd).size;
      if (size === 0) return;
      // the last record is far shorter than this; read back far enough to find its start
      const back = Math.min(size, 1 << 20);
      tail = Buffer.alloc(back);
      readSync(fd, tail, 0, back, size - back);
    } finally {
      closeSync(fd);
    }
    const base = size - tail.length;
    let end = tail.length;
    while (end > 0 && (tail[end - 1] === 0x0a || tail[end - 1] === 0x20 || tail[end - 1] === 0x0d || tail[end - 1] === 0x09)) end--;
    if (end === 0) return; // only blank lines
    const start = tail.lastIndexOf(0x0a, end - 1) + 1;
    let parses = true;
    try {
      JSON.parse(tail.toString('utf8', start, end));
    } catch {
      parses = false;
    }
    if (!parses) truncateSync(this.file, base + start);
    else if (tail[tail.length - 1] !== 0x0a) appendFileSync(this.file, '\n');
  }

  /** Reads the records appended since the last look (by any process). */
  private refresh(): void {
    if (!existsSync(this.file)) return;
    const buf = readFrom(this.file, this.offset);
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) break; // an unfinished last line: read it when it is complete
      const text = buf.toString('utf8', start, nl);
      this.lineNo++;
      start = nl + 1;
      if (text.trim() === '') continue;
      let rec: unknown;
      try {
        rec = JSON.parse(text);
      } catch {
        rec = undefined;
      }
      if (!isStoredResult(rec)) {
        const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
        throw inputError(this.file, this.lineNo, `expected a JSON query record {key, arch, value, cost, finished}, got ${shown}`);
      }
      this.byKey.set(rec.key, cleanRecord(rec));
    }
    this.offset += start;
  }

  get(key: string): StoredResult | undefined {
    const hit = this.byKey.get(key);
    if (hit) return hit;
    this.refresh();
    return this.byKey.get(key);
  }

  put(rec: StoredResult): void {
    if (!isStoredResult(rec)) throw new Error(`JsonlStore.put: malformed record for '${String((rec as { arch?: unknown }).arch)}'`);
    const r = cleanRecord(rec);
    this.withAppendLock(() => {
      this.repairTail();
      appendFileSync(this.file, `${JSON.stringify(r)}\n`);
    });
    this.refresh();
  }

  scan(): StoredResult[] {
    this.refresh();
    return [...this.byKey.values()];
  }

  /** Every stored result (as `scan`). */
  records(): StoredResult[] {
    return this.scan();
  }

  /** Number of distinct keys seen so far. */
  get size(): number {
    return this.byKey.size;
  }

  claim(key: string): Claim | undefined {
    mkdirSync(this.claimsDir, { recursive: true });
    // keys are hex hashes; anything else is made safe for a file name
    const lock = tryLock(join(this.claimsDir, `${key.replace(/[^a-zA-Z0-9_-]/g, '_')}.claim`), this.leaseMs);
    if (!lock) return undefined;
    return { key, renew: () => lock.renew(), release: () => lock.release() };
  }
}
