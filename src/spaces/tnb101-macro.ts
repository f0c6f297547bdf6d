import type { Rng } from '../util/rng.js';
import { SpaceError, type SearchSpace } from './types.js';
import { formatTuple, parseIntTuple } from './nb201.js';
import { changeEach, changeOne, vectorAt } from './categorical.js';

/**
 * TransNAS-Bench-101 macro (skeleton-level) space: a code of 4–6 stages, each digit 1..4 where
 * 1 = plain, 2 = double the channels, 3 = downsample, 4 = both.
 * The benchmark's 3,256 networks are exactly the codes with
 *   1..3 channel-doubling stages (digits 2 or 4) and 1..4 downsampling stages (digits 3 or 4),
 * checked against every row of macro.csv (each (length, #doubling, #downsampling) class is complete:
 * C(L,a)·C(L,b) codes).
 */
export const TNB101_MACRO_MIN_LENGTH = 4;
export const TNB101_MACRO_MAX_LENGTH = 6;
const MIN_LEN = TNB101_MACRO_MIN_LENGTH;
const MAX_LEN = TNB101_MACRO_MAX_LENGTH;
const DOUBLING = { min: 1, max: 3 };
const DOWNSAMPLING = { min: 1, max: 4 };

/** The benchmark's api string, e.g. `64-232323-basic` for (2, 3, 2, 3, 2, 3). */
const API_RE = /^\s*64-([1-4]{4,6})-basic\s*$/;

/** Whether a digit code is one of the benchmark's networks. */
export function isTnb101MacroCode(code: readonly number[]): boolean {
  if (code.length < MIN_LEN || code.length > MAX_LEN) return false;
  let doubling = 0;
  let downsampling = 0;
  for (const d of code) {
    if (!Number.isInteger(d) || d < 1 || d > 4) return false;
    if (d === 2 || d === 4) doubling++;
    if (d === 3 || d === 4) downsampling++;
  }
  return (
    doubling >= DOUBLING.min && doubling <= DOUBLING.max && downsampling >= DOWNSAMPLING.min && downsampling <= DOWNSAMPLING.max
  );
}

function describeRule(): string {
  return (
    `${MIN_LEN}-${MAX_LEN} digits 1..4 with ${DOUBLING.min}-${DOUBLING.max} channel-doubling digits (2 or 4) ` +
    `and ${DOWNSAMPLING.min}-${DOWNSAMPLING.max} downsampling digits (3 or 4)`
  );
}

/** Digit code → canonical `(1, 2, 1, 4)`; throws if it is not in the space. */
export function tnb101MacroFromCode(code: readonly number[]): string {
  if (!isTnb101MacroCode(code)) {
    throw new SpaceError(`tnb101-macro: ${formatTuple(code)} is not a network of the benchmark (expected ${describeRule()})`);
  }
  return formatTuple(code);
}

/** Any accepted notation → digit code (validated). */
export function tnb101MacroToCode(arch: string): number[] {
  const tuple = parseIntTuple(arch);
  if (tuple) {
    tnb101MacroFromCode(tuple);
    return tuple;
  }
  const m = API_RE.exec(arch);
  if (m) {
    const code = m[1].split('').map(Number);
    tnb101MacroFromCode(code);
    return code;
  }
  throw new SpaceError(
    `tnb101-macro: expected a code tuple like "(1, 2, 1, 4)" or an api string like "64-232323-basic" (${describeRule()}), got "${arch}"`,
  );
}

/** Canonical → the benchmark's api string. */
export function tnb101MacroToApi(arch: string): string {
  return `64-${tnb101MacroToCode(arch).join('')}-basic`;
}

/** All single-digit changes that stay in the space, in (position, digit) order. */
function digitNeighbours(code: readonly number[]): number[][] {
  return changeEach(code, 4, 1).filter(isTnb101MacroCode);
}

let allArchs: string[] | undefined;

/**
 * `enumerate()` order: by length (4, 5, 6), then lexicographic in the digits.
 *
 * `mutate` / `neighbours` only change one digit (the reference REA's move); the length never changes,
 * so the three lengths are separate components of the mutation graph (REA explores the lengths its
 * initial population contains).
 *
 * `decisions` = [length − 4 (3 choices), digit1 − 1, …, digit6 − 1 (4 choices each)]. `encode` fills the
 * digits beyond the length with 0; `decode` ignores them and returns null for codes outside the space.
 */
export const tnb101MacroSpace: SearchSpace = {
  id: 'tnb101-macro',
  size: 3256,
  decisions: Object.freeze([MAX_LEN - MIN_LEN + 1, ...new Array<number>(MAX_LEN).fill(4)]),

  parse(text: string): string {
    return formatTuple(tnb101MacroToCode(text));
  },

  enumerate(): string[] {
    if (!allArchs) {
      const out: string[] = [];
      for (let len = MIN_LEN; len <= MAX_LEN; len++) {
        for (let i = 0; i < 4 ** len; i++) {
          const code = vectorAt(i, len, 4, 1);
          if (isTnb101MacroCode(code)) out.push(formatTuple(code));
        }
      }
      allArchs = out;
    }
    return allArchs.slice();
  },

  // Reference REA: uniform position, uniform different digit, retried until the code is in the space.
  // Every code has a valid single-digit change (tested), but the retry is still capped: after the cap a
  // uniform valid neighbour is taken, which is the distribution the retries converge to anyway.
  mutate(arch: string, rng: Rng): string {
    const code = tnb101MacroToCode(arch);
    for (let attempt = 0; attempt < 100; attempt++) {
      const next = changeOne(code, 4, rng, 1);
      if (isTnb101MacroCode(next)) return formatTuple(next);
    }
    const options = digitNeighbours(code);
    if (options.length === 0) throw new SpaceError(`tnb101-macro: ${arch} has no single-digit neighbour in the space`);
    return formatTuple(rng.pick(options));
  },

  neighbours(arch: string): string[] {
    return digitNeighbours(tnb101MacroToCode(arch)).map(formatTuple);
  },

  encode(arch: string): number[] {
    const code = tnb101MacroToCode(arch);
    const out = new Array<number>(1 + MAX_LEN).fill(0);
    out[0] = code.length - MIN_LEN;
    code.forEach((d, p) => (out[1 + p] = d - 1));
    return out;
  },

  decode(choices: readonly number[]): string | null {
    if (choices.length !== 1 + MAX_LEN) return null;
    const len = MIN_LEN + choices[0];
    if (!Number.isInteger(len) || len < MIN_LEN || len > MAX_LEN) return null;
    const code = choices.slice(1, 1 + len).map((c) => c + 1);
    return isTnb101MacroCode(code) ? formatTuple(code) : null;
  },
};
