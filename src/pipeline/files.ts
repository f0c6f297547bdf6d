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

/** The differences between the settings recorded in a folder and this run's (empty: same search). */
export function settingsDiff(file: string, settings: Record<string, unknown>): string[] {
  if (!existsSync(file)) return [];
  let old: Record<string, unknown>;
  try {
    old = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw inputError(file, undefined, `unreadable settings (${(e as Error).message}); delete the folder's files to start over`);
  }
  return Object.keys({ ...old, ...settings })
    .filter((k) => JSON.stringify(old[k]) !== JSON.stringify(settings[k]))
    .map((k) => `${k}: ${JSON.stringify(old[k])} (now ${JSON.stringify(settings[k])})`);
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
