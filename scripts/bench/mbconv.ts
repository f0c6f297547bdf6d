/**
 * Inverted-residual (MBConv) networks for the benchmarks and tests of the engine's mobile kernels, defined the same way
 * as scripts/anchors/torch_mbconv_bench.py defines them for PyTorch (module names included):
 *   stem conv 3×3 (no bias) → BN → act;
 *   per block: [1×1 expand → BN → act] (expansion > 1) → k×k depthwise, stride s, padding (k − 1)/2 → BN → act →
 *   [squeeze-excite: global average pool → linear(ce → max(8, ce/4)) → ReLU → linear → gate → channel scale] →
 *   1×1 project → BN, + the block input when stride 1 and channels match;
 *   head 1×1 conv → BN → act → global average pool → linear.
 * Not a search space (the mobile space is built on these kernels elsewhere): fixed networks to time and test.
 */
import { NetworkBuilder } from '../../src/networks/builder.js';
import { samePad } from '../../src/engine/depthwise.js';
import { execOp, type ActivationKind, type Exec, type Network } from '../../src/networks/layers.js';

export interface MbBlock {
  /** Expansion ratio t (1: no expand conv). */
  expand: number;
  cout: number;
  /** Blocks of this row (MobileNetV2's n); the first has the stride. */
  repeat: number;
  stride: number;
  k: number;
  /** Squeeze-excite gate, or none. */
  se: 'sigmoid' | 'hardsigmoid' | null;
}

export interface MbNetSpec {
  stem: number;
  act: ActivationKind;
  blocks: MbBlock[];
  /** Channels of the head's 1×1 conv (0: none). */
  head: number;
}

/** The benchmark networks (names shared with the PyTorch anchor). */
export const MB_ARCHS: Record<string, MbNetSpec> = {
  'MobileNetV2-like (k3, ReLU6)': {
    stem: 16,
    act: 'relu6',
    blocks: [
      { expand: 1, cout: 16, repeat: 1, stride: 1, k: 3, se: null },
      { expand: 6, cout: 24, repeat: 2, stride: 2, k: 3, se: null },
      { expand: 6, cout: 32, repeat: 2, stride: 2, k: 3, se: null },
      { expand: 6, cout: 64, repeat: 2, stride: 2, k: 3, se: null },
    ],
    head: 256,
  },
  'MnasNet-like (k3/5/7, SE, h-swish)': {
    stem: 16,
    act: 'hardswish',
    blocks: [
      { expand: 1, cout: 16, repeat: 1, stride: 1, k: 3, se: null },
      { expand: 4, cout: 24, repeat: 2, stride: 2, k: 5, se: null },
      { expand: 6, cout: 32, repeat: 2, stride: 2, k: 5, se: 'hardsigmoid' },
      { expand: 6, cout: 64, repeat: 2, stride: 2, k: 7, se: 'hardsigmoid' },
    ],
    head: 256,
  },
};

/** Input shapes and batch of the benchmark rows (names shared with the PyTorch anchor). */
export const MB_CONFIGS: { name: string; shape: [number, number, number]; batch: number }[] = [
  { name: 'MNIST 1x28x28, batch 32', shape: [1, 28, 28], batch: 32 },
  { name: 'CIFAR 3x32x32, batch 32', shape: [3, 32, 32], batch: 32 },
];

export function buildMbNet(spec: MbNetSpec, inputShape: [number, number, number], classes: number, id = 'mbconv'): Network {
  const b = new NetworkBuilder();
  const stem = { conv: b.conv('stem.0', inputShape[0], spec.stem, 3, 1, 1, false), bn: b.batchNorm('stem.1', spec.stem, true, true) };
  let cin = spec.stem;
  let i = 0;
  const blocks = spec.blocks.flatMap((row) =>
    Array.from({ length: row.repeat }, (_, r) => {
      const p = `blocks.${i++}`;
      const stride = r === 0 ? row.stride : 1;
      const ce = cin * row.expand;
      const expand = row.expand === 1 ? null : { conv: b.conv(`${p}.expand.0`, cin, ce, 1, 1, 0, false), bn: b.batchNorm(`${p}.expand.1`, ce, true, true) };
      const dw = b.depthwiseConv(`${p}.dw.0`, ce, row.k, stride, samePad(row.k), 1);
      const dwBn = b.batchNorm(`${p}.dw.1`, ce, true, true);
      const sq = Math.max(8, Math.floor(ce / 4));
      const se = row.se ? { fc1: b.linear(`${p}.se.fc1`, ce, sq, true), relu: b.relu(`${p}.se.relu`), fc2: b.linear(`${p}.se.fc2`, sq, ce, true), gate: row.se } : null;
      const project = { conv: b.conv(`${p}.project.0`, ce, row.cout, 1, 1, 0, false), bn: b.batchNorm(`${p}.project.1`, row.cout, true, true) };
      const residual = stride === 1 && cin === row.cout;
      cin = row.cout;
      return { name: p, expand, dw, dwBn, se, project, residual };
    }),
  );
  const head = spec.head > 0 ? { conv: b.conv('head.0', cin, spec.head, 1, 1, 0, false), bn: b.batchNorm('head.1', spec.head, true, true) } : null;
  const classifier = b.linear('classifier', head ? spec.head : cin, classes, true);
  return {
    id,
    inputShape,
    numClasses: classes,
    params: b.params,
    weightLayers: b.weightLayers,
    batchNorms: b.batchNorms,
    relus: b.relus,
    forward<T>(exec: Exec<T>, x: T): T {
      const act = execOp(exec, 'activation');
      const scale = execOp(exec, 'channelScale');
      const a = (y: T, name: string): T => act({ name, kind: spec.act }, y);
      let h = a(exec.batchNorm(stem.bn, exec.conv(stem.conv, x)), 'stem.2');
      for (const blk of blocks) {
        let y = blk.expand ? a(exec.batchNorm(blk.expand.bn, exec.conv(blk.expand.conv, h)), `${blk.name}.expand.2`) : h;
        y = a(exec.batchNorm(blk.dwBn, exec.conv(blk.dw, y)), `${blk.name}.dw.2`);
        if (blk.se) {
          const s = exec.linear(blk.se.fc2, exec.relu(blk.se.relu, exec.linear(blk.se.fc1, exec.globalAvgPool(y))));
          y = scale(y, act({ name: `${blk.name}.se.gate`, kind: blk.se.gate }, s));
        }
        y = exec.batchNorm(blk.project.bn, exec.conv(blk.project.conv, y));
        h = blk.residual ? exec.add([h, y]) : y;
      }
      if (head) h = a(exec.batchNorm(head.bn, exec.conv(head.conv, h)), 'head.2');
      return exec.linear(classifier, exec.globalAvgPool(h));
    },
  };
}
