import { loadDataset } from '../../src/data/index.js';
import { buildSpecNetwork, type NetworkSpec } from '../../src/model/network.js';
import type { Network } from '../../src/networks/layers.js';
import { initParams, type ParamValues } from '../../src/networks/params.js';
import type { BnRunning } from '../../src/train/step.js';
import { Rng } from '../../src/util/rng.js';
import { SHARED_DATA } from '../helpers/shared.js';
import { join } from 'node:path';

/** Covers every DARTS primitive, stride-2 versions of each in the reduction cell, and a node fed only by `none`. */
export const ALL_OPS_GENOTYPE =
  "Genotype(normal=[('sep_conv_3x3', 0), ('dil_conv_5x5', 1), ('avg_pool_3x3', 0), ('max_pool_3x3', 2), ('skip_connect', 1), ('none', 3), ('sep_conv_5x5', 2), ('dil_conv_3x3', 4)], normal_concat=range(2, 6), " +
  "reduce=[('dil_conv_3x3', 0), ('avg_pool_3x3', 1), ('none', 0), ('none', 1), ('max_pool_3x3', 0), ('skip_connect', 1), ('sep_conv_3x3', 1), ('dil_conv_5x5', 0)], reduce_concat=range(2, 6))";
/** Every NB201 op, a node fed only by `none`, a node read by two convs. */
export const ALL_OPS_CELL = '|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|';

/** The networks every export format is checked on: both spaces, grey and RGB input, one and several cells. */
export const EXPORT_CASES = [
  { name: 'nb201 C4 N1, MNIST', spec: { space: 'nb201', arch: ALL_OPS_CELL, channels: 4, cells: 1, classes: 10, inputShape: [1, 28, 28] }, data: 'mnist' },
  { name: 'nb201 C4 N2, CIFAR-10', spec: { space: 'nb201', arch: '|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|skip_connect~2|', channels: 4, cells: 2, classes: 10, inputShape: [3, 32, 32] }, data: 'cifar' },
  { name: 'darts C2, 4 cells, MNIST', spec: { space: 'darts', arch: ALL_OPS_GENOTYPE, channels: 2, cells: 4, classes: 10, inputShape: [1, 28, 28] }, data: 'mnist' },
  { name: 'darts C4, 5 cells, CIFAR-10', spec: { space: 'darts', arch: ALL_OPS_GENOTYPE, channels: 4, cells: 5, classes: 10, inputShape: [3, 32, 32] }, data: 'cifar' },
] as const;

export interface RandomModel {
  net: Network;
  params: ParamValues;
  running: BnRunning;
}

/**
 * Seeded PyTorch-default weights and non-trivial running statistics (mean ±0.5, variance 0.5..2): with fresh
 * statistics (0, 1) an export that swapped or dropped them would still agree.
 */
export function randomModel(spec: NetworkSpec, seed: number): RandomModel {
  const net = buildSpecNetwork(spec);
  const rng = new Rng(seed);
  const params = initParams(net, rng);
  for (const bn of net.batchNorms) {
    if (bn.weight) params.set(bn.weight, Float32Array.from({ length: bn.channels }, () => rng.uniform(0.5, 1.5)));
    if (bn.bias) params.set(bn.bias, Float32Array.from({ length: bn.channels }, () => rng.uniform(-0.3, 0.3)));
  }
  const running: BnRunning = new Map(
    net.batchNorms.map((b) => [
      b.name,
      { mean: Float32Array.from({ length: b.channels }, () => rng.uniform(-0.5, 0.5)), variance: Float32Array.from({ length: b.channels }, () => rng.uniform(0.5, 2)) },
    ]),
  );
  return { net, params, running };
}

/** Real preprocessed images: MNIST test digits (1×28×28) or the shared CIFAR-10 subset (3×32×32). */
export function realImages(kind: 'mnist' | 'cifar', n: number): { images: Float32Array; labels: Int32Array; classNames: string[] } {
  const ds = kind === 'mnist' ? loadDataset('mnist', { split: 'test', limit: n }) : loadDataset('cifar10-1k', { data: join(SHARED_DATA, 'cifar10'), limit: n });
  return { images: ds.images, labels: ds.labels, classNames: [...(ds.classNames ?? [])] };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
