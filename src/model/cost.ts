/**
 * Size of an architecture before any training: parameter count and FLOPs (multiply-accumulates of the conv
 * and linear layers for one image, the convention of NAS papers), both from the engine's network definition
 * (networks/params countParams, proxies/cost countMacs), so they are the numbers of the network that trains.
 */
import { countParams } from '../networks/params.js';
import { countMacs } from '../proxies/cost.js';
import { buildSpecNetwork, type NetworkSpec } from './network.js';

export interface ArchitectureCost {
  params: number;
  /** Multiply-accumulates per image (conv + linear). */
  flops: number;
}

export function architectureCost(spec: NetworkSpec): ArchitectureCost {
  const net = buildSpecNetwork(spec);
  return { params: countParams(net), flops: countMacs(net) };
}
