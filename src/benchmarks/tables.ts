/**
 * What every benchmark format shares once its rows are read: architecture strings parsed into one space (duplicates
 * and unknown ones named by where they are), the space detected when the file does not say, the task chosen, and the
 * finished Benchmark checked.
 */
import { basename } from 'node:path';
import type { CsvTable } from '../formats/csv.js';
import { getSpace } from '../spaces/index.js';
import type { SearchSpace } from '../spaces/types.js';
import { inputError } from '../util/errors.js';
import { NB201_FILE_TASK } from './datadir.js';
import { BENCHMARK_IDS, TASKS, type BenchmarkId } from './ids.js';
import type { Benchmark } from './types.js';

/** What a caller of `loadTable` may fix instead of leaving it to detection. */
export interface TableOptions {
  benchmark?: BenchmarkId;
  task?: string;
}

export function spaceFor(id: BenchmarkId): SearchSpace {
  return getSpace(id);
}

/**
 * Parses every architecture once into its canonical string; an unparsable string or a duplicate
 * (after canonicalisation) is an InputError naming where it is (`loc(i)`, e.g. "line 5").
 */
export function parseArchs(space: SearchSpace, raw: readonly string[], file: string, loc: (i: number) => string): string[] {
  const out = new Array<string>(raw.length);
  const seen = new Map<string, number>();
  for (let i = 0; i < raw.length; i++) {
    let arch: string;
    try {
      arch = space.parse(raw[i]!);
    } catch (e) {
      throw inputError(file, undefined, `${loc(i)}: unknown architecture '${raw[i]}': ${spaceWhy(space.id, e)}`);
    }
    const prev = seen.get(arch);
    if (prev !== undefined) {
      const as = raw[prev] === raw[i] ? '' : ` as '${raw[prev]}'`;
      throw inputError(file, undefined, `${loc(i)}: duplicate architecture '${raw[i]}' (already on ${loc(prev)}${as})`);
    }
    seen.set(arch, i);
    out[i] = arch;
  }
  return out;
}

/** A SpaceError's explanation, prefixed with the space id unless it already is. */
function spaceWhy(id: string, e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.startsWith(`${id}:`) ? msg : `${id}: ${msg}`;
}

export function indexOf(archs: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  archs.forEach((a, i) => m.set(a, i));
  return m;
}

export function nanArray(n: number): Float64Array {
  return new Float64Array(n).fill(NaN);
}

export function makeBenchmark(b: Benchmark): Benchmark {
  const n = b.archs.length;
  for (const [name, col] of [['objective', b.objective], ['cost', b.cost], ['final', b.final]] as const) {
    if (col.length !== n) throw new Error(`internal: ${name} has ${col.length} values for ${n} architectures`);
  }
  return Object.freeze({ ...b });
}

/** Tries the spaces in order on the strings; returns the one space that accepts them all. */
export function detectSpace(
  raw: readonly string[],
  file: string,
  loc: (i: number) => string,
  candidates: readonly BenchmarkId[] = BENCHMARK_IDS,
): BenchmarkId {
  let alive = candidates.map((id) => ({ id, space: spaceFor(id), error: '' }));
  if (raw.length === 0) throw inputError(file, undefined, 'no architectures in the file');
  for (let i = 0; i < raw.length && alive.length > 1; i++) {
    const next = alive.filter((c) => {
      try {
        c.space.parse(raw[i]!);
        return true;
      } catch (e) {
        c.error = spaceWhy(c.id, e);
        return false;
      }
    });
    if (next.length === 0) {
      const whys = alive.map((c) => c.error).join('; ');
      throw inputError(file, undefined, `${loc(i)}: unknown architecture '${raw[i]}' (not in any supported space — ${whys})`);
    }
    alive = next;
  }
  if (alive.length > 1) {
    throw inputError(
      file,
      undefined,
      `the architectures fit several search spaces (${alive.map((c) => c.id).join(', ')}); say which benchmark the file belongs to (--benchmark)`,
    );
  }
  return alive[0]!.id;
}

export function lineLoc(t: CsvTable): (i: number) => string {
  return (i) => `line ${t.lines[i]}`;
}

export function taskFromFileName(file: string): string | undefined {
  const name = basename(file).toLowerCase();
  for (const t of TASKS.nb201) if (name === `${t}.csv`) return t;
  for (const [t, short] of Object.entries(NB201_FILE_TASK)) if (name.startsWith(`nb2_${short}_`)) return t;
  return undefined;
}

export function stem(file: string): string {
  return basename(file).replace(/\.[^.]*$/, '');
}

/** Picks `wanted` among the tasks a file holds (case-insensitive), or the only one. */
export function selectTask(file: string, available: readonly string[], wanted: string | undefined): string {
  if (wanted === undefined) {
    if (available.length === 1) return available[0]!;
    throw inputError(file, undefined, `the file holds several tasks; choose one (--task): ${available.join(', ')}`);
  }
  const found = available.find((t) => t.toLowerCase() === wanted.toLowerCase());
  if (found === undefined) throw inputError(file, undefined, `unknown task '${wanted}': the file holds ${available.join(', ')}`);
  return found;
}

