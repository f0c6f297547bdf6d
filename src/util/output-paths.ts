/**
 * Checks that an output path can be written before any work starts, so a typo in `--out` fails in a second
 * instead of after an hour of training. Nothing is created: the nearest existing ancestor is probed with a
 * temporary file that is removed at once (a real probe, since permission bits say nothing for root or for
 * read-only mounts).
 */
import { closeSync, existsSync, openSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SettingError } from './errors.js';

function kindOf(path: string): 'dir' | 'file' | 'none' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'none';
  }
}

/** The nearest ancestor of `path` (or `path` itself) that exists. */
function existingAncestor(path: string): string {
  let p = resolve(path);
  while (!existsSync(p)) {
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  return p;
}

/** Whether a file can be created in the existing folder `dir`. */
function canCreateIn(dir: string): string | undefined {
  const probe = join(dir, `.robot-nas-write-probe-${process.pid}`);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

/** Where `path` would be created: an error text, or undefined when it can be. */
function creatable(path: string): string | undefined {
  const base = existingAncestor(dirname(resolve(path)));
  if (kindOf(base) !== 'dir') return `${base} is a file, so no folder can be created under it`;
  const code = canCreateIn(base);
  return code === undefined ? undefined : `cannot write in ${base} (${code})`;
}

/** An output folder: empty paths, existing files and unwritable places are a SettingError on `setting`. */
export function checkOutputDir(path: string, setting: string): void {
  if (path.trim() === '') throw new SettingError(setting, 'expected a folder path, got an empty string');
  const kind = kindOf(path);
  if (kind === 'file') throw new SettingError(setting, `${path} is a file; expected a folder (existing or to be created)`);
  const problem = kind === 'dir' ? (canCreateIn(resolve(path)) === undefined ? undefined : `cannot write in ${resolve(path)}`) : creatable(join(path, 'x'));
  if (problem !== undefined) throw new SettingError(setting, `${path}: ${problem}`);
}

/** An output file: empty paths, folders and unwritable places are a SettingError on `setting`. */
export function checkOutputFile(path: string, setting: string): void {
  if (path.trim() === '') throw new SettingError(setting, 'expected a file path, got an empty string');
  if (path.endsWith('/')) throw new SettingError(setting, `${path} names a folder; expected a file`);
  const kind = kindOf(path);
  if (kind === 'dir') throw new SettingError(setting, `${path} is a folder; expected a file`);
  const problem = kind === 'file' ? (canCreateIn(dirname(resolve(path))) === undefined ? undefined : `cannot write in ${dirname(resolve(path))}`) : creatable(path);
  if (problem !== undefined) throw new SettingError(setting, `${path}: ${problem}`);
}
