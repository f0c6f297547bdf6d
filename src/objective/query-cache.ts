/**
 * On-disk cache of expensive queries (real trainings), so an interrupted or repeated search
 * does not train the same architecture twice. The file is JSON Lines, one record appended per
 * finished query; appends are single synchronous writes, so a crash can at worst leave a
 * partial last line, which `open` drops (and cuts off, so later appends stay well-formed).
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync } from 'node:fs';
import { dirname } from 'node:path';
import { inputError } from '../util/errors.js';

/** One finished query. */
export interface CachedQuery {
  /** `queryKey` of everything that determines the result (architecture, data, hyperparameters…). */
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

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** JSON with object keys sorted at every level, rejecting values JSON would silently change. */
function canonical(v: unknown, path: string, seen: Set<object>): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`queryKey: non-finite number at ${path}`);
    return JSON.stringify(v);
  }
  if (typeof v !== 'object') throw new Error(`queryKey: ${typeof v} value at ${path}`);
  if (seen.has(v)) throw new Error(`queryKey: cyclic value at ${path}`);
  seen.add(v);
  let s: string;
  if (Array.isArray(v)) {
    s = `[${v.map((x, i) => canonical(x, `${path}[${i}]`, seen)).join(',')}]`;
  } else if (isPlainObject(v)) {
    const keys = Object.keys(v).sort();
    s = `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k], `${path}.${k}`, seen)}`).join(',')}}`;
  } else {
    throw new Error(`queryKey: unsupported object at ${path}`);
  }
  seen.delete(v);
  return s;
}

/** Hex SHA-256 of a canonical JSON of `parts`: independent of object key order, not of array order. */
export function queryKey(parts: unknown): string {
  return createHash('sha256').update(canonical(parts, '$', new Set())).digest('hex');
}

/** Whether `r` has the shape of a CachedQuery. */
function isRecord(r: unknown): r is CachedQuery {
  if (!isPlainObject(r)) return false;
  return (
    typeof r.key === 'string' &&
    r.key !== '' &&
    typeof r.arch === 'string' &&
    typeof r.value === 'number' &&
    Number.isFinite(r.value) &&
    typeof r.cost === 'number' &&
    Number.isFinite(r.cost) &&
    r.cost >= 0 &&
    typeof r.finished === 'string' &&
    (r.details === undefined || isPlainObject(r.details))
  );
}

/** The record with a fixed field order (so lines look alike) and no stray fields. */
function clean(r: CachedQuery): CachedQuery {
  const out: CachedQuery = { key: r.key, arch: r.arch, value: r.value, cost: r.cost, finished: r.finished };
  if (r.details !== undefined) out.details = r.details;
  return out;
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** Query records by key, optionally backed by a JSON Lines file. */
export class QueryCache {
  private readonly byKey = new Map<string, CachedQuery>();

  private constructor(readonly file: string | undefined) {}

  /** A cache without a file (tests, --no-cache). */
  static memory(): QueryCache {
    return new QueryCache(undefined);
  }

  /**
   * Opens (or starts) the cache in `file`, creating its folder. A later record with the same
   * key wins. A malformed record before the last line is an InputError: it is not a crash
   * artifact, and silently dropping it would throw away a training.
   */
  static open(file: string): QueryCache {
    mkdirSync(dirname(file), { recursive: true });
    const cache = new QueryCache(file);
    if (!existsSync(file)) return cache;
    const buf = readFileSync(file);
    // Byte offsets of line starts, so a repair can truncate exactly after the last good line.
    const lines: { text: string; start: number; end: number; terminated: boolean }[] = [];
    for (let start = 0; start < buf.length; ) {
      const nl = buf.indexOf(0x0a, start);
      const end = nl < 0 ? buf.length : nl;
      lines.push({ text: buf.toString('utf8', start, end), start, end, terminated: nl >= 0 });
      start = end + 1;
    }
    let last = lines.length - 1;
    while (last >= 0 && lines[last].text.trim() === '') last--;
    let keepBytes = buf.length;
    let needNewline = false;
    for (let i = 0; i <= last; i++) {
      const { text, start, end, terminated } = lines[i];
      if (text.trim() === '') continue;
      const rec = parseLine(text);
      if (i === last) {
        if (rec === undefined) {
          keepBytes = start; // torn final write: drop it
          break;
        }
        // A complete record whose newline is missing (hand-edited file, or a crash between
        // bytes of one write that still ended on '}') is kept; only the newline is restored.
        if (!terminated) {
          keepBytes = end;
          needNewline = true;
        }
      }
      if (!isRecord(rec)) {
        const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
        throw inputError(file, i + 1, `expected a JSON query record {key, arch, value, cost, finished}, got ${shown}`);
      }
      cache.byKey.set(rec.key, clean(rec));
    }
    if (keepBytes < buf.length) truncateSync(file, keepBytes);
    if (needNewline) appendFileSync(file, '\n');
    return cache;
  }

  get(key: string): CachedQuery | undefined {
    return this.byKey.get(key);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Records a finished query, appending it to the file at once (a crash later keeps it). */
  put(rec: CachedQuery): void {
    if (!isRecord(rec)) throw new Error(`QueryCache.put: malformed record for '${String((rec as { arch?: unknown }).arch)}'`);
    const r = clean(rec);
    if (this.file !== undefined) appendFileSync(this.file, `${JSON.stringify(r)}\n`);
    this.byKey.set(r.key, r);
  }

  /** Number of distinct keys. */
  get size(): number {
    return this.byKey.size;
  }

  /** The current record of every key. */
  records(): CachedQuery[] {
    return [...this.byKey.values()];
  }
}
