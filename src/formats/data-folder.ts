/**
 * The project's data folder and the package root, for every reader of files users do not pass by name:
 * benchmark tables (src/benchmarks) and image datasets (src/data). The folder is, in this order: `--data DIR`;
 * else the `ROBOT_NAS_DATA` environment variable; else `../shared/data` next to the package root.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../util/errors.js';

export function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The package root: the nearest folder above this module that holds package.json. */
export function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return resolve(here, '..', '..');
    dir = up;
  }
}

/**
 * The data folder: `explicit` (--data DIR), then env.ROBOT_NAS_DATA, then `../shared/data` next to `repoRoot`
 * (default: the package root). A named folder that does not exist is an error; so is finding none, with
 * `missingHelp` (what to download and where to put it) in the message.
 */
export function findDataFolder(explicit: string | undefined, env: NodeJS.ProcessEnv, repoRoot: string | undefined, missingHelp: string, what = 'data folder'): string {
  if (explicit !== undefined && explicit !== '') {
    const p = resolve(explicit);
    if (!isDir(p)) throw new InputError(`--data ${explicit}: no such directory (${p})`);
    return p;
  }
  const fromEnv = env['ROBOT_NAS_DATA'];
  if (fromEnv !== undefined && fromEnv !== '') {
    const p = resolve(fromEnv);
    if (!isDir(p)) throw new InputError(`ROBOT_NAS_DATA=${fromEnv}: no such directory (${p})`);
    return p;
  }
  const fallback = resolve(repoRoot ?? packageRoot(), '..', 'shared', 'data');
  if (isDir(fallback)) return fallback;
  throw new InputError(`no ${what} found: --data was not given, ROBOT_NAS_DATA is not set, and ${fallback} does not exist.\n${missingHelp}`);
}
