import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from './errors.js';
import { refusal, whyNotReplaceable, type FolderOwner } from './owned-folder.js';

/**
 * Writes a file atomically: a temporary file in the same folder, then a rename. A crash or a full disk never
 * leaves half a file under the real name (the temporary one is removed when the write fails).
 */
export function writeAtomic(file: string, text: string | Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Writes a folder of files (name → contents) atomically: everything goes into a temporary sibling folder, which
 * is then renamed to `dir`; a previous folder at `dir` is moved aside first and removed after, so a reader
 * sees the old folder or the new one, never a mix. A previous folder is replaced only when `owner` says it is ours
 * and holds nothing else (util/owned-folder.ts), checked again here, at the moment of replacing.
 */
export function writeFolderAtomic(dir: string, files: ReadonlyMap<string, Uint8Array | string>, owner: FolderOwner): void {
  const abs = resolve(dir);
  const parent = dirname(abs);
  mkdirSync(parent, { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = join(parent, `.${basename(abs)}.tmp-${tag}`);
  mkdirSync(tmp);
  try {
    for (const [name, data] of files) writeFileSync(join(tmp, name), data);
    if (existsSync(abs)) {
      const why = whyNotReplaceable(abs, owner);
      if (why !== undefined) throw new InputError(refusal(dir, owner, why));
      const old = join(parent, `.${basename(abs)}.old-${tag}`);
      renameSync(abs, old);
      renameSync(tmp, abs);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, abs);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
