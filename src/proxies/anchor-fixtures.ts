import { buildNb201 } from '../networks/nb201.js';
import type { Network } from '../networks/layers.js';
import type { ParamValues } from '../networks/params.js';
import { fixtureWeights } from './fixture-weights.js';
import type { Batch } from './types.js';

/**
 * The networks of the committed metric fixtures (test/fixtures/metrics/anchors.json, written by
 * `npm run anchors:fixtures`): each names an NB201 cell, its size, the seeds of its counter-based weights and of
 * AZ-NAS's Rademacher vectors, and batches of the shared CIFAR-10 images by index — everything the TypeScript
 * side and the PyTorch anchor need to rebuild the same inputs on their own.
 */
export interface AnchorNetworkSpec {
  name: string;
  arch: string;
  channels: number;
  cells: number;
  classes: number;
  weight_seed: number;
  rademacher_seed: number;
  /** Image indices into the shared CIFAR-10 1k files; the first batch feeds every metric, the second ZiCo too. */
  batches: number[][];
}

const MEAN = [0.4914, 0.4822, 0.4465];
const STD = [0.247, 0.2435, 0.2616];

/**
 * A batch of the shared images (raw uint8 NHWC) as the anchor builds it: float32((v/255 − mean)/std), NCHW,
 * labels modulo the class count.
 */
export function anchorBatch(images: Uint8Array, labels: Uint8Array, indices: readonly number[], classes: number): Batch {
  const n = indices.length;
  const x = new Float32Array(n * 3 * 1024);
  indices.forEach((src, b) => {
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) x[(b * 3 + c) * 1024 + p] = (images[(src * 1024 + p) * 3 + c] / 255 - MEAN[c]) / STD[c];
    }
  });
  return { shape: [n, 3, 32, 32], x, targets: Int32Array.from(indices, (i) => labels[i] % classes) };
}

export function anchorNetwork(spec: AnchorNetworkSpec): { network: Network; params: ParamValues } {
  const network = buildNb201({ arch: spec.arch, channels: spec.channels, cellsPerStage: spec.cells, numClasses: spec.classes });
  return { network, params: fixtureWeights(network, spec.weight_seed) };
}
