/**
 * Folders robot-nas replaces as a whole (a saved model, an export) are replaced only when they are provably ours: the
 * folder's manifest is a valid one of this tool (a model card, an export's sample-logits.json), it names every other
 * file with the SHA-256 we wrote, those files are unchanged, and the folder holds nothing else. Anything else — a web
 * app that happens to hold a `manifest.json`, a `{}`, a file added or edited by hand — is refused, so that no file we
 * did not write is ever deleted. `checkReplaceable` runs before any work (exit 2 naming the folder) and
 * `writeFolderAtomic` (util/atomic.ts) runs it again at the moment of replacing.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SettingError } from './errors.js';
import { checkOutputDir } from './output-paths.js';

/** What makes a folder of one kind ours. */
export interface FolderOwner {
  /** What such a folder is, with its article, for messages: 'a model folder'. */
  readonly what: string;
  /**
   * Reads the folder's manifest: the files robot-nas wrote there (name → SHA-256 hex, or null for the manifest itself,
   * which vouches for itself by being valid), or why the folder is not one of ours.
   */
  claim(dir: string): Claim | { notOurs: string };
}

/** The files robot-nas wrote into a folder of its own. */
export interface Claim {
  /** Name → SHA-256 hex of the content written, or null for a file that vouches for itself (the manifest). */
  files: ReadonlyMap<string, string | null>;
  /** Other names robot-nas writes there without listing them (appended logs, tables keyed by their name). */
  also?: (name: string) => boolean;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function list(names: readonly string[]): string {
  const shown = names.slice(0, 3).map((n) => `'${n}'`).join(', ');
  return names.length > 3 ? `${shown} and ${names.length - 3} more` : shown;
}

/** Why `dir` may not be replaced, or undefined when it may (absent, empty, or ours with nothing else in it). */
export function whyNotReplaceable(dir: string, owner: FolderOwner): string | undefined {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) return 'it is a file, not a folder';
    entries = readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? undefined : `it cannot be read (${code ?? String(e)})`;
  }
  if (entries.length === 0) return undefined;
  const c = owner.claim(dir);
  if ('notOurs' in c) return c.notOurs;
  const foreign = entries.filter((e) => !c.files.has(e) && !c.also?.(e)).sort();
  if (foreign.length > 0) return `it also holds ${list(foreign)}, which robot-nas did not write`;
  for (const [name, digest] of c.files) {
    if (digest === null || !entries.includes(name)) continue;
    const file = join(dir, name);
    if (!lstatSync(file).isFile()) return `'${name}' is not the file robot-nas wrote`;
    if (sha256(readFileSync(file)) !== digest) return `'${name}' was changed since robot-nas wrote it`;
  }
  return undefined;
}

/** The message of a refused folder (the same before any work and at the moment of writing). */
export function refusal(dir: string, owner: FolderOwner, why: string): string {
  return `${dir} is not ${owner.what} of robot-nas: ${why}. robot-nas never replaces what it did not write, so nothing was changed; choose another folder, or empty this one yourself`;
}

/**
 * Fails (SettingError on `setting`, exit 2 in the CLI) unless `dir` can become this output folder: writable
 * (util/output-paths), and absent, empty or a folder of `owner`'s kind holding only what robot-nas wrote.
 */
export function checkReplaceable(dir: string, setting: string, owner: FolderOwner): void {
  checkOutputDir(dir, setting);
  const why = whyNotReplaceable(dir, owner);
  if (why !== undefined) {
    throw new SettingError(setting, refusal(dir, owner, why));
  }
}

/** The usual claim of a manifest file that lists the other files: parse it, or say why the folder is not ours. */
export function claimByManifest(
  dir: string,
  manifest: string,
  what: string,
  read: (json: unknown, file: string) => ReadonlyMap<string, string>,
): Claim | { notOurs: string } {
  const file = join(dir, manifest);
  let text: string;
  try {
    if (!lstatSync(file).isFile()) return { notOurs: `its ${manifest} is not a file` };
    text = readFileSync(file, 'utf8');
  } catch {
    return { notOurs: `it holds no ${manifest}` };
  }
  let listed: ReadonlyMap<string, string>;
  try {
    listed = read(JSON.parse(text), file);
  } catch (e) {
    return { notOurs: `its ${manifest} is not ${what} (${(e as Error).message.replace(`${file}: `, '')})` };
  }
  return { files: new Map<string, string | null>([[manifest, null], ...listed]) };
}

/**
 * The same rule for a single output file robot-nas overwrites (a report, a table): an existing file is replaced only
 * when `isOurs` recognises its content as what robot-nas writes there; otherwise a SettingError on `setting`.
 */
export function checkReplaceableFile(file: string, setting: string, what: string, isOurs: (text: string) => boolean): void {
  let text: string;
  try {
    if (!lstatSync(file).isFile()) return; // folders and the like: the output-path checks name them
    text = readFileSync(file, 'utf8');
  } catch {
    return; // absent: nothing to lose
  }
  if (text.trim() === '' || isOurs(text)) return;
  throw new SettingError(setting, `${file} exists and is not ${what} of robot-nas. robot-nas never replaces what it did not write, so nothing was changed; choose another file, or remove this one yourself`);
}

/** Whether `text` is a JSON object holding every one of `keys` (how our JSON outputs are recognised). */
export function jsonWithKeys(text: string, keys: readonly string[]): boolean {
  try {
    const j = JSON.parse(text) as unknown;
    return typeof j === 'object' && j !== null && !Array.isArray(j) && keys.every((k) => k in j);
  } catch {
    return false;
  }
}
