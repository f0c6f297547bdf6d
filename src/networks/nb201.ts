import { NB201_OPS, nb201ToOps } from '../spaces/nb201.js';
import { NetworkBuilder } from './builder.js';
import type { BatchNormLayer, Conv2dLayer, Exec, LinearLayer, Network, ReluSite } from './layers.js';

/**
 * NAS-Bench-201 in the zero-cost-proxies reference variant (see shared/fixtures/metrics/README.md):
 * stem conv3x3+BN; three stages of N cells at C, 2C, 4C with residual reduction blocks between stages;
 * head BN → ReLU → global average pool → linear. Cell conv ops are ReLU → conv (with bias) → BN without
 * affine parameters.
 */

export interface Nb201Config {
  /** Cell string `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` (any notation src/spaces/nb201.ts accepts). */
  arch: string;
  /** Channels of the first stage (C). */
  channels: number;
  /** Cells per stage (N). */
  cellsPerStage: number;
  numClasses: number;
  /** Input [C, H, W]; default [3, 32, 32]. */
  inputShape?: [number, number, number];
}

type OpName = (typeof NB201_OPS)[number];

/** The six cell edges in canonical-string order: (to, from). */
const EDGES: readonly (readonly [number, number])[] = [
  [1, 0],
  [2, 0],
  [2, 1],
  [3, 0],
  [3, 1],
  [3, 2],
];

interface CellEdge {
  to: number;
  from: number;
  op: OpName;
  relu?: ReluSite;
  conv?: Conv2dLayer;
  bn?: BatchNormLayer;
}

type Block =
  | { kind: 'cell'; edges: CellEdge[] }
  | {
      kind: 'reduction';
      reluA: ReluSite;
      convA: Conv2dLayer;
      bnA: BatchNormLayer;
      reluB: ReluSite;
      convB: Conv2dLayer;
      bnB: BatchNormLayer;
      shortcut: Conv2dLayer;
    };

/** Op names of the six edges, in canonical-string order. */
export function nb201EdgeOps(arch: string): OpName[] {
  return nb201ToOps(arch).map((i) => NB201_OPS[i]);
}

export function buildNb201(config: Nb201Config): Network {
  const { channels: c, cellsPerStage: n, numClasses } = config;
  const inputShape = config.inputShape ?? [3, 32, 32];
  if (!(Number.isInteger(c) && c >= 1 && Number.isInteger(n) && n >= 1 && Number.isInteger(numClasses) && numClasses >= 1)) {
    throw new RangeError(`nb201: channels, cells_per_stage and num_classes must be positive integers, got ${c}, ${n}, ${numClasses}`);
  }
  const ops = nb201EdgeOps(config.arch);
  const b = new NetworkBuilder();

  const stemConv = b.conv('stem_conv', inputShape[0], c, 3, 1, 1, false);
  const stemBn = b.batchNorm('stem_bn', c, true, false);

  const blocks: Block[] = [];
  let k = 0;
  let width = c;
  for (let stage = 0; stage < 3; stage++) {
    if (stage > 0) {
      const p = `layers.${k++}`;
      const out = width * 2;
      const reluA = b.relu(`${p}.conv_a.relu`);
      const convA = b.conv(`${p}.conv_a.conv`, width, out, 3, 2, 1, false);
      const bnA = b.batchNorm(`${p}.conv_a.bn`, out, true, true);
      const reluB = b.relu(`${p}.conv_b.relu`);
      const convB = b.conv(`${p}.conv_b.conv`, out, out, 3, 1, 1, false);
      const bnB = b.batchNorm(`${p}.conv_b.bn`, out, true, true);
      const shortcut = b.conv(`${p}.shortcut`, width, out, 1, 1, 0, false);
      blocks.push({ kind: 'reduction', reluA, convA, bnA, reluB, convB, bnB, shortcut });
      width = out;
    }
    for (let cell = 0; cell < n; cell++) {
      const p = `layers.${k++}`;
      const edges: CellEdge[] = EDGES.map(([to, from], e) => {
        const op = ops[e];
        const edge: CellEdge = { to, from, op };
        if (op === 'nor_conv_3x3' || op === 'nor_conv_1x1') {
          const kernel = op === 'nor_conv_3x3' ? 3 : 1;
          const q = `${p}.ops.${to}_${from}`;
          edge.relu = b.relu(`${q}.relu`);
          edge.conv = b.conv(`${q}.conv`, width, width, kernel, 1, (kernel - 1) / 2, true);
          edge.bn = b.batchNorm(`${q}.bn`, width, false, false);
        }
        return edge;
      });
      blocks.push({ kind: 'cell', edges });
    }
  }

  const topBn = b.batchNorm('top_bn', width, true, false);
  const topRelu = b.relu('top_relu');
  const classifier: LinearLayer = b.linear('classifier', width, numClasses, true);

  // Module marks (Exec.module) follow the NAS-Bench-201 model MeCo's code scores (foresight/models/nasbench2.py:
  // stem = Sequential(conv, BN) in a module, ReLUConvBN = Sequential(ReLU, conv, BN) in a module, POOLING wraps its
  // AvgPool2d, stacks of cells are Sequentials, the reduction's shortcut is Sequential(AvgPool2d, conv), the head's
  // lastact is Sequential(BN, ReLU)); the network's value does not depend on them.
  function forward<T>(exec: Exec<T>, x: T): T {
    let h = exec.batchNorm(stemBn, exec.conv(stemConv, x));
    exec.module?.('stem.net', 'wrap', h);
    exec.module?.('stem', 'feature', h);
    let k = 0;
    for (const block of blocks) {
      const name = `layers.${k++}`;
      if (block.kind === 'reduction') {
        const a = reluConvBn(exec, `${name}.conv_a`, block.reluA, block.convA, block.bnA, h);
        const bb = reluConvBn(exec, `${name}.conv_b`, block.reluB, block.convB, block.bnB, a);
        const s = exec.conv(block.shortcut, exec.avgPool(h, 2, 2, 0));
        exec.module?.(`${name}.residual`, 'wrap', s);
        h = exec.add([s, bb]);
      } else {
        h = cellForward(exec, block.edges, h, name);
      }
      exec.module?.(name, 'feature', h);
      if (block.kind === 'cell' && (k === blocks.length || blocks[k].kind === 'reduction')) exec.module?.(`${name}.stack`, 'wrap', h);
    }
    const r = exec.relu(topRelu, exec.batchNorm(topBn, h));
    exec.module?.('top.lastact', 'wrap', r);
    const z = exec.globalAvgPool(r);
    return exec.linear(classifier, z);
  }

  return {
    id: config.arch,
    inputShape,
    numClasses,
    params: b.params,
    weightLayers: b.weightLayers,
    batchNorms: b.batchNorms,
    relus: b.relus,
    forward,
  };
}

/** ReLU → conv → BN, marked as its Sequential and its ReLUConvBN module. */
function reluConvBn<T>(exec: Exec<T>, name: string, relu: ReluSite, conv: Conv2dLayer, bn: BatchNormLayer, x: T): T {
  const y = exec.batchNorm(bn, exec.conv(conv, exec.relu(relu, x)));
  exec.module?.(`${name}.op`, 'wrap', y);
  exec.module?.(name, 'wrap', y);
  return y;
}

function cellForward<T>(exec: Exec<T>, edges: CellEdge[], x: T, name: string): T {
  const nodes: T[] = [x];
  for (let to = 1; to <= 3; to++) {
    const terms: T[] = [];
    for (const e of edges) {
      if (e.to !== to) continue;
      const inp = nodes[e.from];
      switch (e.op) {
        case 'none':
          // Contributes exact zeros to the sum and nothing to any gradient: skipped (see below).
          break;
        case 'skip_connect':
          exec.module?.(`${name}.ops.${e.to}_${e.from}`, 'wrap', inp); // Identity
          terms.push(inp);
          break;
        case 'avg_pool_3x3': {
          const y = exec.avgPool(inp, 3, 1, 1);
          exec.module?.(`${name}.ops.${e.to}_${e.from}`, 'wrap', y); // POOLING around its AvgPool2d
          terms.push(y);
          break;
        }
        default:
          terms.push(reluConvBn(exec, `${name}.ops.${e.to}_${e.from}`, e.relu!, e.conv!, e.bn!, inp));
      }
    }
    // A node fed only by `none` edges is an all-zero tensor; it is still materialised because conv ops reading
    // it keep their ReLU (NASWOT), bias and BatchNorm behaviour.
    nodes.push(terms.length === 0 ? exec.zerosLike(x) : terms.length === 1 ? terms[0] : exec.add(terms));
  }
  return nodes[3];
}
