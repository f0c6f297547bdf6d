/**
 * The network (networks/build) of a model description — space, architecture, size, classes, input shape — with
 * the architecture in its canonical spelling and bad sizes as InputErrors. Shared by saving, loading and the
 * size measures.
 */
import { buildNetwork } from '../networks/build.js';
import type { Network } from '../networks/layers.js';
import { getSpace } from '../spaces/index.js';
import { InputError } from '../util/errors.js';

export interface NetworkSpec {
  space: 'nb201' | 'darts';
  /** NB201 cell string or DARTS genotype, any spelling the space parses. */
  arch: string;
  /** nb201: C; darts: initial channels. */
  channels: number;
  /** nb201: cells per stage N; darts: number of cells. */
  cells: number;
  classes: number;
  /** [C, H, W]. */
  inputShape: [number, number, number];
}

/** Canonical architecture string of a space; a malformed one is an InputError naming the space. */
export function canonicalArch(space: string, arch: string): string {
  const s = getSpace(space);
  try {
    return s.parse(arch);
  } catch (e) {
    throw new InputError(`not a ${space} architecture: ${(e as Error).message}`);
  }
}

/** Builds the network (sizes that cannot be built, e.g. odd sizes at a DARTS reduction, are InputErrors). */
export function buildSpecNetwork(spec: NetworkSpec): Network {
  const arch = canonicalArch(spec.space, spec.arch);
  try {
    return buildNetwork(spec.space, arch, { channels: spec.channels, cells: spec.cells, classes: spec.classes }, spec.inputShape);
  } catch (e) {
    if (e instanceof RangeError) throw new InputError(e.message);
    throw e;
  }
}
