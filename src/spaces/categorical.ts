import type { Rng } from '../util/rng.js';
import type { SearchSpace } from './types.js';

/*
 * Architectures coded as a vector of categorical choices: every position takes one of `choices`
 * consecutive integers `first .. first + choices − 1` (`first` is 0 unless said otherwise).
 */

/** The vector at `index` in lexicographic order (counted in base `choices`, first position most significant). */
export function vectorAt(index: number, length: number, choices: number, first = 0): number[] {
  const v = new Array<number>(length);
  for (let p = length - 1; p >= 0; p--) {
    v[p] = (index % choices) + first;
    index = Math.floor(index / choices);
  }
  return v;
}

/**
 * The reference REA's move, as a changed copy of `v`: a uniformly chosen position gets a uniformly
 * chosen different value (two draws, `rng.int(v.length)` then `rng.int(choices − 1)`).
 */
export function changeOne(v: readonly number[], choices: number, rng: Rng, first = 0): number[] {
  const next = v.slice();
  const p = rng.int(v.length);
  const d = rng.int(choices - 1) + first;
  next[p] = d >= v[p] ? d + 1 : d;
  return next;
}

/** Every copy of `v` with one position set to a different value, in (position, value) order. */
export function changeEach(v: readonly number[], choices: number, first = 0): number[][] {
  const out: number[][] = [];
  for (let p = 0; p < v.length; p++) {
    for (let d = first; d < first + choices; d++) {
      if (d === v[p]) continue;
      const next = v.slice();
      next[p] = d;
      out.push(next);
    }
  }
  return out;
}

/** How a space whose architectures are all vectors of `length` values 0..choices−1 writes them. */
export interface CategoricalCoding {
  readonly id: string;
  readonly length: number;
  readonly choices: number;
  /** Any accepted notation → the vector; throws a SpaceError for text that is not an architecture. */
  toVector(arch: string): number[];
  /** A vector → the canonical string; throws a SpaceError for a vector that is not an architecture. */
  fromVector(v: readonly number[]): string;
}

/**
 * The search space of every vector of the coding: `enumerate()` lexicographic in the vector,
 * `mutate` / `neighbours` change one position, and `encode` is the vector itself.
 */
export function categoricalSpace(coding: CategoricalCoding): SearchSpace {
  const { length, choices } = coding;
  const size = choices ** length;
  let allArchs: string[] | undefined;
  return {
    id: coding.id,
    size,
    decisions: Object.freeze(new Array<number>(length).fill(choices)),

    parse(text: string): string {
      return coding.fromVector(coding.toVector(text));
    },

    enumerate(): string[] {
      allArchs ??= Array.from({ length: size }, (_, i) => coding.fromVector(vectorAt(i, length, choices)));
      return allArchs.slice();
    },

    mutate(arch: string, rng: Rng): string {
      return coding.fromVector(changeOne(coding.toVector(arch), choices, rng));
    },

    neighbours(arch: string): string[] {
      return changeEach(coding.toVector(arch), choices).map((v) => coding.fromVector(v));
    },

    encode(arch: string): number[] {
      return coding.toVector(arch);
    },

    decode(values: readonly number[]): string | null {
      if (values.length !== length) return null;
      if (!values.every((c) => Number.isInteger(c) && c >= 0 && c < choices)) return null;
      return coding.fromVector(values);
    },
  };
}
