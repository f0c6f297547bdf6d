import type { Rng } from '../util/rng.js';

/**
 * A discrete NAS search space. Architectures travel through the code as their canonical
 * string (e.g. NAS-Bench-201's `|op~0|+|…|`), which is also the key benchmarks are joined on.
 */
export interface SearchSpace {
  /** Short id used on the CLI: `nb201`, `tnb101-micro`, `tnb101-macro`. */
  readonly id: string;
  /** Number of architectures in the space. */
  readonly size: number;
  /**
   * Any accepted notation of an architecture (canonical string, op tuple such as `(2, 3, 1, 0, 4, 2)`,
   * a benchmark's own string) → the canonical string. Throws `SpaceError` naming what was expected.
   */
  parse(text: string): string;
  /** Every architecture of the space, canonical, in a fixed order. */
  enumerate(): string[];
  /** One random change: a single decision set to a different allowed value. The result is in the space. */
  mutate(arch: string, rng: Rng): string;
  /** All architectures one change away (the results of every possible `mutate`). */
  neighbours(arch: string): string[];
  /**
   * Categorical decisions that describe an architecture (REINFORCE's policy has one softmax per entry):
   * `decisions[k]` = number of choices of decision k. `decode(encode(a)) === a` for every arch.
   * `decode` returns null for decision vectors that are not an architecture of the space.
   */
  readonly decisions: readonly number[];
  encode(arch: string): number[];
  decode(choices: readonly number[]): string | null;
}

/** Raised by `SearchSpace.parse` for text that is not an architecture of the space. */
export class SpaceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpaceError';
  }
}
