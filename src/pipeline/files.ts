/** The output folder's bookkeeping: settings compatibility, the query log, paths for messages. */
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { writeAtomic } from '../util/atomic.js';
import { inputError } from '../util/errors.js';
import type { FolderOwner } from '../util/owned-folder.js';

/** The files a search writes into its output folder, settings.json first. */
export const SEARCH_FILES = ['settings.json', 'metrics.csv', 'queries.jsonl', 'result.json', 'search-curve.svg'] as const;
/** What else a search may keep there: with --no-cache its metric table and latencies, and atomic writes' temporary files. */
const SEARCH_ALSO = [/^metrics-[0-9a-f]{16}\.csv(\.meta\.json)?$/, /^latency-[0-9a-f]{16}\.jsonl$/, /\.tmp-\d+$/];

/**
 * A search's output folder is ours when it holds nothing but a search's files: settings.json (a JSON object with a
 * search's fields) before any other of them, the tables named by their key, and the query cache when it was put
 * there. A folder holding a `result.json` of someone else, or anything else, is refused before any work.
 */
export function searchFolder(cache: string | null, out: string): FolderOwner {
  const cacheName = cache !== null && resolve(dirname(cache)) === resolve(out) ? basename(cache) : undefined;
  const also = (name: string): boolean =>
    SEARCH_ALSO.some((re) => re.test(name)) || (cacheName !== undefined && (name === cacheName || name === `${cacheName}.lock` || name === `${cacheName}.claims`));
  return {
    what: 'a search folder',
    claim: (dir) => {
      const file = join(dir, 'settings.json');
      if (!existsSync(file)) {
        const ours = SEARCH_FILES.find((f) => existsSync(join(dir, f)));
        return ours === undefined ? { files: new Map(), also } : { notOurs: `it holds ${ours} but no settings.json of a robot-nas search` };
      }
      let json: unknown;
      try {
        json = lstatSync(file).isFile() ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
      } catch {
        json = undefined;
      }
      const j = json as Record<string, unknown> | undefined;
      if (typeof j !== 'object' || j === null || !['space', 'dataset', 'method', 'metrics', 'seed'].every((k) => k in j)) {
        return { notOurs: 'its settings.json is not the settings of a robot-nas search' };
      }
      return { files: new Map(SEARCH_FILES.map((f) => [f, null])), also };
    },
  };
}

/** A setting's value as a user reads it: numbers and strings as they are, lists joined, absent as "none". */
function shownValue(v: unknown): string {
  if (v === undefined || v === null) return 'none';
  if (Array.isArray(v)) return v.length === 0 ? 'none' : v.map(shownValue).join(',');
  if (typeof v === 'object') return Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k} ${shownValue(x)}`).join(', ');
  return String(v);
}

/** Nested settings as dotted leaves (`training.epochs`), so a difference names the one value that changed. */
function leaves(v: Record<string, unknown>, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  for (const [k, x] of Object.entries(v)) {
    // limits are one setting (their set of flags), shown together; other objects are walked
    if (typeof x === 'object' && x !== null && !Array.isArray(x) && k !== 'limits') leaves(x as Record<string, unknown>, `${prefix}${k}.`, out);
    else out.set(`${prefix}${k}`, x);
  }
  return out;
}

/** The settings that choose which images a search trains on (with the files' content, the fingerprint's input). */
const SELECTION = ['dataset', 'dir', 'validFraction', 'trainLimit', 'validLimit', 'seed'];

/**
 * The differences between the settings recorded in a folder and this run's (empty: same search), one phrase each:
 * `budget 20 → 10`, `limits none → maxParams 40000`. Other images are said as such — "the data changed (fingerprint
 * a → b)" — rather than through the settings derived from them (the augmentation's mean and padding).
 */
export function settingsDiff(file: string, settings: Record<string, unknown>): string[] {
  if (!existsSync(file)) return [];
  let old: Record<string, unknown>;
  try {
    old = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw inputError(file, undefined, `unreadable settings (${(e as Error).message}); delete the folder's files to start over`);
  }
  const before = leaves(old);
  const now = leaves(settings);
  const out: string[] = [];
  // Other images under the same dataset, folder, split and caps: the data changed. (A folder written before the
  // fingerprint was recorded is compared on the rest, as it was then; other caps or split explain a new fingerprint.)
  const same = (k: string): boolean => JSON.stringify(before.get(k)) === JSON.stringify(now.get(k));
  const dataChanged = before.has('fingerprint') && !same('fingerprint') && SELECTION.every(same);
  if (dataChanged) out.push(`the data changed (fingerprint ${shownValue(before.get('fingerprint'))} → ${shownValue(now.get('fingerprint'))})`);
  for (const k of new Set([...before.keys(), ...now.keys()])) {
    if (k === 'fingerprint' || (dataChanged && k.startsWith('training.augment.'))) continue;
    if (JSON.stringify(before.get(k)) === JSON.stringify(now.get(k))) continue;
    out.push(`${k} ${shownValue(before.get(k))} → ${shownValue(now.get(k))}`);
  }
  return out;
}

/** A path as a user would type it: relative to the working folder when inside it. */
export function shownPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** Keys already logged in queries.jsonl (a torn last line is cut off so appends stay well-formed). */
export function loggedKeys(file: string): Set<string> {
  const keys = new Set<string>();
  if (!existsSync(file)) return keys;
  const text = readFileSync(file, 'utf8');
  // After the last newline there is either nothing or a torn write.
  const complete = text.split('\n').slice(0, -1);
  const good: string[] = [];
  for (const line of complete) {
    try {
      const rec = JSON.parse(line) as { key?: unknown };
      if (typeof rec.key === 'string' && !keys.has(rec.key)) {
        keys.add(rec.key);
        good.push(line);
      }
    } catch {
      // a line that does not parse can only be a torn write: dropped below
    }
  }
  const repaired = good.map((l) => l + '\n').join('');
  if (repaired !== text) writeAtomic(file, repaired);
  return keys;
}
