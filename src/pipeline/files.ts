/** The output folder's bookkeeping: settings compatibility, the query log, paths for messages. */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { writeAtomic } from '../util/atomic.js';
import { inputError } from '../util/errors.js';

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
