/**
 * How every random stream of a search derives from the user's `--seed` (and `--search-seed`): the one table of
 * the project's randomness. Each stream is a function of the run seed and, where it matters, the architecture,
 * so a result never depends on which method asked for it, in which order, or on which worker it ran.
 *
 * | stream            | seed                                         | drives                                           |
 * |-------------------|----------------------------------------------|--------------------------------------------------|
 * | split             | `seed`                                       | class-stratified train/validation split          |
 * | subset caps       | `Rng(seed)`: 1st and 2nd `int(2^31)`         | `--train-limit`, `--valid-limit` subsets         |
 * | pool              | `derive(seed, 'archs')` (NB201 shuffle); numpy `RandomState(seed)` (DARTS, as RoBoT) | the candidate pool |
 * | scoring batch     | `derive(seed, 'batch')`                      | the images every metric is computed on           |
 * | scoring weights   | `derive(seed, 'weights:' + arch)`            | initial weights of a network being scored        |
 * | training          | t = `derive(seed, 'train:' + arch)`: init `t`, batch order `t + 1`, augmentation `t + 2` | each query's training |
 * | search            | `searchSeed` (default `seed`)                | the search method (RoBoT: numpy `RandomState` ×2, as bayes_opt) |
 *
 * `derive` is FNV-1a over the UTF-8 bytes of `${seed}:${tag}`: a hash rather than seed + k, so that nearby run
 * seeds and similar architecture strings give unrelated streams.
 */

/** A 32-bit seed derived from the run seed and a tag (see the table). */
export function deriveSeed(seed: number, tag: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(`${seed}:${tag}`, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** The streams of the table, by name. */
export const seedStreams = {
  split: (seed: number): number => seed,
  pool: (seed: number): number => deriveSeed(seed, 'archs'),
  scoringBatch: (seed: number): number => deriveSeed(seed, 'batch'),
  scoringWeights: (seed: number, arch: string): number => deriveSeed(seed, `weights:${arch}`),
  /** Draws a metric makes itself (SWAP's and AZ-NAS's own weights, AZ-NAS's noise and Rademacher vectors). */
  scoringDraws: (seed: number, arch: string): number => deriveSeed(seed, `draws:${arch}`),
  /** The base seed of an architecture's training; `trainingStreams` splits it into its three streams. */
  training: (seed: number, arch: string): number => deriveSeed(seed, `train:${arch}`),
  search: (seed: number, searchSeed?: number): number => searchSeed ?? seed,
} as const;

/** The three streams of one training, from its base seed (`seedStreams.training`). */
export function trainingStreams(base: number): { init: number; order: number; augment: number } {
  return { init: base, order: base + 1, augment: base + 2 };
}

/** Seed an architecture's training uses: a function of the run seed and the architecture only. */
export function trainingSeed(seed: number, arch: string): number {
  return seedStreams.training(seed, arch);
}
