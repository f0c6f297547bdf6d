/**
 * Which architectures a batch scoring or a search's pool holds: the whole space, a seeded sample (nested across sizes
 * for one seed), a list, or a file of architectures.
 */
import { readFileSync } from 'node:fs';
import { seededSample } from '../proxies/spec.js';
import { formatGenotype, sampleGenotype } from '../spaces/darts.js';
import type { SearchSpace } from '../spaces/types.js';
import { inputError, SettingError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { seedStreams } from '../util/seeds.js';

/** `all`, a sample size, a file of architectures (one per line), or a list of canonical architectures the caller already chose. */
export type ArchSpec = { kind: 'all' } | { kind: 'sample'; n: number } | { kind: 'file'; file: string } | { kind: 'list'; archs: readonly string[] };

/** `all` → the whole space; digits → a seeded sample of that many; anything else → a file name. */
export function parseArchSpec(text: string): ArchSpec {
  const t = text.trim();
  if (t === 'all') return { kind: 'all' };
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (!(Number.isSafeInteger(n) && n >= 1)) throw new SettingError('archs', `expected all, a positive number of architectures or a file, got '${text}'`);
    return { kind: 'sample', n };
  }
  return { kind: 'file', file: text };
}

/**
 * Reads one architecture per line (any notation the space parses); blank lines and `#` comments are skipped,
 * repeats (after canonicalisation) are dropped. A line that is not an architecture is an InputError naming it.
 */
export function readArchFile(file: string, space: SearchSpace): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw inputError(file, undefined, code === 'ENOENT' ? 'file not found (--archs expects all, a number, or a file)' : `cannot read file (${code ?? String(e)})`);
  }
  const out: string[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    let arch: string;
    try {
      arch = space.parse(line);
    } catch (e) {
      throw inputError(file, i + 1, `not a ${space.id} architecture: '${line}' (${(e as Error).message})`);
    }
    if (!seen.has(arch)) out.push(arch);
    seen.add(arch);
  });
  if (out.length === 0) throw inputError(file, undefined, 'no architectures in the file');
  return out;
}

/**
 * n distinct DARTS genotypes (canonical strings) as RoBoT draws its pool: `sampleGenotype` on
 * `new Rng(seed, 'numpy')` (numpy's RandomState(seed)), repeats skipped, so the list is the first n distinct
 * genotypes of RoBoT's pool for that seed and samples of one seed are nested.
 */
export function sampleDartsArchs(n: number, seed: number): string[] {
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
    throw new SettingError('seed', `${seed}: the darts space is sampled with numpy's RandomState, which needs a seed in 0..4294967295`);
  }
  const rng = new Rng(seed, 'numpy');
  const out: string[] = [];
  const seen = new Set<string>();
  // repeats are astronomically rare (~2.8e20 genotypes); the cap only guards against a broken sampler
  for (let draws = 0; out.length < n; draws++) {
    if (draws >= 10 * n + 100) throw new Error(`darts sampling: only ${out.length} distinct genotypes in ${draws} draws`);
    const g = formatGenotype(sampleGenotype(rng));
    if (!seen.has(g)) out.push(g);
    seen.add(g);
  }
  return out;
}

/**
 * The architectures to score. A sample of n is the first n of a Fisher–Yates shuffle of `space.enumerate()`
 * seeded by `seedStreams.pool(seed)`, so samples of one seed are nested (the 200 are the first 200 of 400).
 * The darts space cannot be enumerated: a sample of n is `sampleDartsArchs(n, seed)` and `all` is an InputError.
 */
export function selectArchs(space: SearchSpace, spec: ArchSpec, seed: number, setting = 'archs'): string[] {
  if (spec.kind === 'file') return readArchFile(spec.file, space);
  if (spec.kind === 'list') return [...spec.archs];
  if (space.id === 'darts') {
    if (spec.kind === 'all') {
      throw new SettingError(
        setting,
        `all: the darts space has ~${space.size.toExponential(1)} architectures and cannot be enumerated; it can only be sampled ` +
          '(a number N draws N distinct genotypes as RoBoT samples its pool)' + (setting === 'archs' ? ' or read from a file (one genotype per line)' : ''),
      );
    }
    return sampleDartsArchs(spec.n, seed);
  }
  const all = space.enumerate();
  if (spec.kind === 'all') return all;
  if (spec.n > all.length) throw new SettingError(setting, `${spec.n} architectures requested, but the ${space.id} space has only ${all.length}`);
  return seededSample(all, spec.n, new Rng(seedStreams.pool(seed)));
}
