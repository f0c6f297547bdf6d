import { DARTS_STEPS, formatGenotype, parseGenotype, validateGenotype, type DartsGenotype, type DartsOp } from '../spaces/darts.js';
import { NetworkBuilder } from './builder.js';
import { execOp, type BatchNormLayer, type Conv2dLayer, type Exec, type LinearLayer, type Network, type ReluSite } from './layers.js';

/**
 * DARTS's NetworkCIFAR (model.py / operations.py as in RoBoT's darts_space), without the auxiliary head and
 * with drop-path off: stem conv3x3 (3 → 3C, no bias) + BN; `layers` cells, reductions (stride 2, channels ×2)
 * at layers//3 and 2·layers//3; each cell preprocesses its two inputs (ReLU → 1×1 conv → BN, or
 * FactorizedReduce after a reduction), runs the genotype's 8 ops and concatenates nodes 2..5; global average
 * pool → linear. Every BatchNorm is affine and runs in training mode (batch statistics).
 *
 * Parameter names and order follow PyTorch's state_dict of NetworkCIFAR: `stem.0`, `stem.1`,
 * `cells.<i>.preprocess0.op.1` / `.conv_1`, `.conv_2`, `.bn`, `cells.<i>._ops.<j>.op.<k>`, `classifier`.
 *
 * SynFlow: every BatchNorm is kept (`keepInSynflow`), because RoBoT computes synflow on the full DARTS model
 * (search.py calls compute_synflow_per_weight on NetworkCIFAR directly, training mode, BN in place), unlike the
 * NB201 reference that builds a BN-free copy.
 */

export interface DartsConfig {
  genotype: DartsGenotype | string;
  /** Initial channels C (RoBoT's search: 16; DARTS evaluation: 36). */
  channels: number;
  /** Number of cells (RoBoT's search: 5; DARTS evaluation: 20). */
  layers: number;
  numClasses: number;
  /** Input [C, H, W]; default [3, 32, 32]. H and W must stay even through both reductions. */
  inputShape?: [number, number, number];
}

/** A 1×1-conv ReLU → conv → BN block, or FactorizedReduce (ReLU → two 1×1 stride-2 convs, one shifted → concat → BN). */
type Pre =
  | { kind: 'rcb'; relu: ReluSite; conv: Conv2dLayer; bn: BatchNormLayer }
  | { kind: 'fr'; relu: ReluSite; conv1: Conv2dLayer; conv2: Conv2dLayer; bn: BatchNormLayer };

/** One separable/dilated stage: ReLU → depthwise k×k → pointwise 1×1 → BN. */
interface ConvStage {
  relu: ReluSite;
  dw: Conv2dLayer;
  pw: Conv2dLayer;
  bn: BatchNormLayer;
}

type OpImpl =
  | { kind: 'none'; stride: number }
  | { kind: 'identity' }
  | { kind: 'pool'; max: boolean; stride: number }
  | { kind: 'fr'; pre: Pre }
  | { kind: 'conv'; stages: ConvStage[] };

interface Cell {
  pre0: Pre;
  pre1: Pre;
  ops: { input: number; impl: OpImpl }[];
  concat: number[];
}

function addReluConvBn(b: NetworkBuilder, p: string, cin: number, cout: number): Pre {
  const relu = b.relu(`${p}.op.0`);
  const conv = b.conv(`${p}.op.1`, cin, cout, 1, 1, 0, false);
  const bn = b.batchNorm(`${p}.op.2`, cout, true, true);
  return { kind: 'rcb', relu, conv, bn };
}

function addFactorizedReduce(b: NetworkBuilder, p: string, cin: number, cout: number): Pre {
  if (cout % 2 !== 0) throw new RangeError(`darts: FactorizedReduce needs an even channel count, got ${cout}`);
  const relu = b.relu(`${p}.relu`);
  const conv1 = b.conv(`${p}.conv_1`, cin, cout / 2, 1, 2, 0, false);
  const conv2 = b.conv(`${p}.conv_2`, cin, cout / 2, 1, 2, 0, false);
  const bn = b.batchNorm(`${p}.bn`, cout, true, true);
  return { kind: 'fr', relu, conv1, conv2, bn };
}

/** Sequential(ReLU, dw, pw, BN[, ReLU, dw, pw, BN]) with module indices as in operations.py. */
function addConvOp(b: NetworkBuilder, p: string, c: number, k: number, stride: number, pad: number, dilation: number, twice: boolean): OpImpl {
  const stages: ConvStage[] = [];
  const n = twice ? 2 : 1;
  for (let s = 0; s < n; s++) {
    const o = 4 * s;
    stages.push({
      relu: b.relu(`${p}.op.${o}`),
      // 'double': the arithmetic DARTS' numbers were recorded with (see Conv2dLayer.depthwiseSum).
      dw: b.depthwiseConv(`${p}.op.${o + 1}`, c, k, s === 0 ? stride : 1, pad, dilation, 'double'),
      pw: b.conv(`${p}.op.${o + 2}`, c, c, 1, 1, 0, false),
      bn: b.batchNorm(`${p}.op.${o + 3}`, c, true, true),
    });
  }
  return { kind: 'conv', stages };
}

function addOp(b: NetworkBuilder, p: string, op: DartsOp, c: number, stride: number): OpImpl {
  switch (op) {
    case 'none':
      return { kind: 'none', stride };
    case 'max_pool_3x3':
      return { kind: 'pool', max: true, stride };
    case 'avg_pool_3x3':
      return { kind: 'pool', max: false, stride };
    case 'skip_connect':
      return stride === 1 ? { kind: 'identity' } : { kind: 'fr', pre: addFactorizedReduce(b, p, c, c) };
    case 'sep_conv_3x3':
      return addConvOp(b, p, c, 3, stride, 1, 1, true);
    case 'sep_conv_5x5':
      return addConvOp(b, p, c, 5, stride, 2, 1, true);
    case 'dil_conv_3x3':
      return addConvOp(b, p, c, 3, stride, 2, 2, false);
    case 'dil_conv_5x5':
      return addConvOp(b, p, c, 5, stride, 4, 2, false);
  }
}

// Module marks (Exec.module) follow DARTS's model.py / operations.py: ReLUConvBN and SepConv/DilConv wrap a
// Sequential `op`, FactorizedReduce and Identity are modules, pools are bare nn.AvgPool2d/MaxPool2d, each cell is
// a module; they do not change the network's value.
function runPre<T>(exec: Exec<T>, pre: Pre, x: T): T {
  const r = exec.relu(pre.relu, x);
  if (pre.kind === 'rcb') {
    const y = exec.batchNorm(pre.bn, exec.conv(pre.conv, r));
    exec.module?.('ReLUConvBN.op', 'wrap', y);
    exec.module?.('ReLUConvBN', 'wrap', y);
    return y;
  }
  const a = exec.conv(pre.conv1, r);
  const bb = exec.conv(pre.conv2, execOp(exec, 'crop')(r, 1, 1));
  const y = exec.batchNorm(pre.bn, execOp(exec, 'concat')([a, bb]));
  exec.module?.('FactorizedReduce', 'wrap', y);
  return y;
}

/** Applies an op; null stands for an exact zero term (the `none` op), which the node sum skips. */
function runOp<T>(exec: Exec<T>, impl: OpImpl, x: T): T | null {
  switch (impl.kind) {
    case 'none':
      return null;
    case 'identity':
      exec.module?.('Identity', 'wrap', x);
      return x;
    case 'pool':
      return impl.max ? execOp(exec, 'maxPool')(x, 3, impl.stride, 1) : exec.avgPool(x, 3, impl.stride, 1);
    case 'fr':
      return runPre(exec, impl.pre, x);
    case 'conv': {
      let h = x;
      for (const s of impl.stages) h = exec.batchNorm(s.bn, exec.conv(s.pw, exec.conv(s.dw, exec.relu(s.relu, h))));
      exec.module?.('SepConv/DilConv.op', 'wrap', h);
      exec.module?.('SepConv/DilConv', 'wrap', h);
      return h;
    }
  }
}

/** Zeros shaped like op(x) for an op of this stride: PyTorch's Zero takes x[:, :, ::s, ::s]. */
function zerosFor<T>(exec: Exec<T>, x: T, stride: number): T {
  return exec.zerosLike(stride === 1 ? x : exec.avgPool(x, 1, stride, 0));
}

function cellForward<T>(exec: Exec<T>, cell: Cell, s0: T, s1: T): T {
  const states: T[] = [runPre(exec, cell.pre0, s0), runPre(exec, cell.pre1, s1)];
  for (let i = 0; i < DARTS_STEPS; i++) {
    const terms: T[] = [];
    let zeroLike: { x: T; stride: number } | undefined;
    for (const e of [cell.ops[2 * i], cell.ops[2 * i + 1]]) {
      const h = states[e.input];
      const y = runOp(exec, e.impl, h);
      if (y === null) zeroLike ??= { x: h, stride: e.impl.kind === 'none' ? e.impl.stride : 1 };
      else terms.push(y);
    }
    // A node fed only by `none` is still an (all-zero) state: later ops and the concat read it.
    states.push(terms.length === 0 ? zerosFor(exec, zeroLike!.x, zeroLike!.stride) : exec.add(terms));
  }
  return execOp(exec, 'concat')(cell.concat.map((j) => states[j]));
}

/** NetworkCIFAR for a genotype (see the file comment). */
export function buildDarts(config: DartsConfig): Network {
  const { channels: c0, layers, numClasses } = config;
  const inputShape = config.inputShape ?? [3, 32, 32];
  if (![c0, layers, numClasses].every((v) => Number.isInteger(v) && v >= 1)) {
    throw new RangeError(`darts: channels, layers and num_classes must be positive integers, got ${c0}, ${layers}, ${numClasses}`);
  }
  const geno = validateGenotype(typeof config.genotype === 'string' ? parseGenotype(config.genotype) : config.genotype);
  const reductions = new Set([Math.floor(layers / 3), Math.floor((2 * layers) / 3)]);
  let hw = [inputShape[1], inputShape[2]];
  for (let i = 0; i < layers; i++) {
    if (reductions.has(i)) {
      // FactorizedReduce concatenates x[::2] and x[1::2] branches: they only agree in size for even extents.
      if (hw.some((d) => d % 2 !== 0)) throw new RangeError(`darts: a reduction cell needs even spatial sizes, got ${hw.join('×')}`);
      hw = hw.map((d) => d / 2);
    }
  }

  const b = new NetworkBuilder();
  const stemC = 3 * c0;
  const stemConv = b.conv('stem.0', inputShape[0], stemC, 3, 1, 1, false);
  const stemBn = b.batchNorm('stem.1', stemC, true, true);

  const cells: Cell[] = [];
  let cPrevPrev = stemC;
  let cPrev = stemC;
  let cCurr = c0;
  let reductionPrev = false;
  for (let i = 0; i < layers; i++) {
    const reduction = reductions.has(i);
    if (reduction) cCurr *= 2;
    const p = `cells.${i}`;
    const pre0 = reductionPrev ? addFactorizedReduce(b, `${p}.preprocess0`, cPrevPrev, cCurr) : addReluConvBn(b, `${p}.preprocess0`, cPrevPrev, cCurr);
    const pre1 = addReluConvBn(b, `${p}.preprocess1`, cPrev, cCurr);
    const edges = reduction ? geno.reduce : geno.normal;
    const concat = reduction ? geno.reduceConcat : geno.normalConcat;
    const ops = edges.map(([op, input], j) => ({
      input,
      impl: addOp(b, `${p}._ops.${j}`, op, cCurr, reduction && input < 2 ? 2 : 1),
    }));
    cells.push({ pre0, pre1, ops, concat: concat.slice() });
    reductionPrev = reduction;
    cPrevPrev = cPrev;
    cPrev = concat.length * cCurr;
  }
  const classifier: LinearLayer = b.linear('classifier', cPrev, numClasses, true);

  function forward<T>(exec: Exec<T>, x: T): T {
    let s0 = exec.batchNorm(stemBn, exec.conv(stemConv, x));
    exec.module?.('stem', 'feature', s0);
    let s1 = s0;
    for (const [i, cell] of cells.entries()) {
      const s = cellForward(exec, cell, s0, s1);
      exec.module?.(`cells.${i}`, 'feature', s);
      s0 = s1;
      s1 = s;
    }
    return exec.linear(classifier, exec.globalAvgPool(s1));
  }

  return {
    id: formatGenotype(geno),
    inputShape,
    numClasses,
    params: b.params,
    weightLayers: b.weightLayers,
    batchNorms: b.batchNorms,
    relus: b.relus,
    forward,
  };
}
