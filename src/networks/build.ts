import { buildDarts } from './darts.js';
import type { Network } from './layers.js';
import { buildNb201 } from './nb201.js';

/** Width and depth of a space's network: NB201's C and cells per stage, DARTS' initial channels and cells. */
export interface NetworkSize {
  /** NB201: C of the first stage; DARTS: NetworkCIFAR's initial channels C. */
  channels: number;
  /** NB201: N, cells per stage; DARTS: the number of cells (`layers`; RoBoT's search uses 5). */
  cells: number;
  /** Classifier outputs. */
  classes: number;
}

/** The network of a (canonical) architecture of `space` ('nb201' or 'darts') for inputs of `inputShape` (C, H, W). */
export function buildNetwork(space: string, arch: string, size: NetworkSize, inputShape: [number, number, number]): Network {
  const { channels, cells, classes } = size;
  if (space === 'darts') return buildDarts({ genotype: arch, channels, layers: cells, numClasses: classes, inputShape });
  return buildNb201({ arch, channels, cellsPerStage: cells, numClasses: classes, inputShape });
}
