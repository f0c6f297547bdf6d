/**
 * NAS-Bench-Suite-Zero json files, full releases or samples (same code):
 *
 * - `zc_nasbench201.json`: `{"nasbench201": {dataset: {"(op tuple)": {metric: value, …, "val_accuracy": v}}}}`
 *   (datasets `cifar10`, `cifar100`, `ImageNet16-120`; metric values are plain numbers);
 * - `zc_transbench101_{micro,macro}.json`: `{task: {"(op tuple)": {id, val_accuracy, <metric>: {score, time}}}}`.
 *
 * Both are read into tasks → entries (the architecture key as written, val_accuracy, metrics by
 * name with value = the number or `.score`). Metric computation times (`.time`) are not training
 * costs and are ignored. Python's json writes NaN/Infinity as bare tokens, which are accepted in metrics
 * (a metric may be undefined for a network) and refused, with their line and column, in `val_accuracy`.
 */
import { readFileSync } from 'node:fs';
import { inputError } from '../util/errors.js';

export interface SzEntry {
  /** The architecture key as written in the file, e.g. `(4, 3, 3, 3, 2, 3)`. */
  readonly key: string;
  /** `val_accuracy`; NaN when absent. */
  readonly valAcc: number;
  readonly metrics: ReadonlyMap<string, number>;
}

export interface SzTask {
  /** Task/dataset name as written in the file (e.g. `ImageNet16-120`). */
  readonly name: string;
  readonly entries: readonly SzEntry[];
}

export interface SzFile {
  readonly file: string;
  /** Outer search-space key when the file wraps its tasks in one (`nasbench201`), else undefined. */
  readonly spaceKey: string | undefined;
  readonly tasks: readonly SzTask[];
}

/** Keys of an entry that are not metrics. */
const NON_METRIC_KEYS = new Set(['id', 'arch', 'naslib_subset_idx', 'val_accuracy', 'index', 'idx', 'test_accuracy', 'train_time']);

const SENTINEL = '\u0000py:';

/** Where each bare NaN/Infinity token was: holder object → key → offset in the text (to name its line and column). */
type TokenPlaces = WeakMap<object, Map<string, number>>;

function parseJsonText(text: string, file: string, places: TokenPlaces): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    if (/\b(NaN|Infinity)\b/.test(text)) {
      // Python's json module writes NaN, Infinity and -Infinity as bare tokens.
      // (the sentinel is written as the JSON escape \u0000, which no real key or value contains; it carries the
      // token's offset, so that a value that must be finite can be refused with its line and column)
      const fixed = text.replace(/([:,[]\s*)(-?Infinity|NaN)(?=\s*[,}\]])/g, (_m, pre: string, tok: string, at: number) => `${pre}"\\u0000py:${tok}@${at + pre.length}"`);
      try {
        return JSON.parse(fixed, function (this: object, k: string, v: unknown) {
          if (typeof v !== 'string' || !v.startsWith(SENTINEL)) return v;
          const [tok, at] = v.slice(SENTINEL.length).split('@');
          let m = places.get(this);
          if (m === undefined) places.set(this, (m = new Map()));
          m.set(k, Number(at));
          return Number(tok);
        });
      } catch {
        /* fall through to the original error */
      }
    }
    throw inputError(file, undefined, `invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** `line:column` (1-based) of an offset in `text`. */
function lineColumn(text: string, offset: number): string {
  let line = 1;
  let last = -1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    last = i;
  }
  return `${line}:${offset - last}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Does this object look like one architecture's record (has val_accuracy or a metric value)? */
function looksLikeEntry(v: unknown): boolean {
  if (!isObject(v)) return false;
  if ('val_accuracy' in v) return true;
  for (const x of Object.values(v)) {
    if (typeof x === 'number' || (isObject(x) && 'score' in x)) return true;
  }
  return false;
}

/** Does this object map task → (arch → entry)? Decided on the first entry of the first task. */
function looksLikeTaskMap(v: unknown): boolean {
  if (!isObject(v)) return false;
  const tasks = Object.values(v);
  if (tasks.length === 0 || !isObject(tasks[0])) return false;
  const first = Object.values(tasks[0])[0];
  return first === undefined || looksLikeEntry(first);
}

export function parseSuiteZero(text: string, file: string): SzFile {
  const places: TokenPlaces = new WeakMap();
  const root = parseJsonText(text, file, places);
  const where = (holder: object, key: string): string | undefined => {
    const at = places.get(holder)?.get(key);
    return at === undefined ? undefined : lineColumn(text, at);
  };
  if (!isObject(root)) throw inputError(file, undefined, 'expected a JSON object (NAS-Bench-Suite-Zero layout)');
  let spaceKey: string | undefined;
  let taskMap: Record<string, unknown>;
  if (looksLikeTaskMap(root)) {
    taskMap = root;
  } else {
    const keys = Object.keys(root);
    const wrapped = keys.filter((k) => looksLikeTaskMap(root[k]));
    if (wrapped.length !== 1 || keys.length !== 1) {
      throw inputError(
        file,
        undefined,
        'not in a NAS-Bench-Suite-Zero layout: expected {task: {"(op tuple)": {metric: …, "val_accuracy": …}}} ' +
          `or {"nasbench201": {dataset: {…}}} (top-level keys found: ${keys.slice(0, 10).join(', ') || 'none'})`,
      );
    }
    spaceKey = keys[0]!;
    taskMap = root[spaceKey] as Record<string, unknown>;
  }
  const tasks: SzTask[] = [];
  for (const [taskName, archMap] of Object.entries(taskMap)) {
    if (!isObject(archMap)) {
      throw inputError(file, undefined, `task "${taskName}": expected an object of architectures, got ${describe(archMap)}`);
    }
    const entries: SzEntry[] = [];
    for (const [key, rec] of Object.entries(archMap)) {
      entries.push(readEntry(file, taskName, key, rec, where));
    }
    tasks.push({ name: taskName, entries });
  }
  return { file, spaceKey, tasks };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  return typeof v === 'object' ? 'an object' : String(v);
}

function readEntry(file: string, task: string, key: string, rec: unknown, place: (holder: object, key: string) => string | undefined): SzEntry {
  const where = `task "${task}", key "${key}"`;
  if (!isObject(rec)) throw inputError(file, undefined, `${where}: expected an object of metrics, got ${describe(rec)}`);
  let valAcc = NaN;
  const va = rec['val_accuracy'];
  if (va !== undefined && va !== null) {
    if (typeof va !== 'number') throw inputError(file, undefined, `${where}, val_accuracy: expected a number, got ${describe(va)}`);
    // the accuracy a search queries and reports: a NaN or Infinity would silently change the answer (metrics may be non-finite)
    if (!Number.isFinite(va)) throw inputError(file, place(rec, 'val_accuracy'), `${where}, val_accuracy: expected a finite number, got ${va} (leave it out or null for an unknown value)`);
    valAcc = va;
  }
  const metrics = new Map<string, number>();
  for (const [m, v] of Object.entries(rec)) {
    if (NON_METRIC_KEYS.has(m)) continue;
    if (typeof v === 'number') metrics.set(m, v);
    else if (v === null) metrics.set(m, NaN);
    else if (isObject(v) && 'score' in v) {
      const s = v['score'];
      if (typeof s === 'number') metrics.set(m, s);
      else if (s === null) metrics.set(m, NaN);
      else throw inputError(file, undefined, `${where}, metric "${m}": expected a numeric score, got ${describe(s)}`);
    } else if (typeof v === 'string' || typeof v === 'boolean') {
      continue; // descriptive fields, not metrics
    } else {
      throw inputError(file, undefined, `${where}, metric "${m}": expected a number or {score, time}, got ${describe(v)}`);
    }
  }
  return { key, valAcc, metrics };
}

export function readSuiteZeroFile(path: string): SzFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw inputError(path, undefined, code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(e)})`);
  }
  return parseSuiteZero(text, path);
}

/** Metric names present in a task (union over entries, in first-seen order). */
export function szMetricNames(task: SzTask): string[] {
  const names = new Set<string>();
  for (const e of task.entries) for (const m of e.metrics.keys()) names.add(m);
  return [...names];
}
