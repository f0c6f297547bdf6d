/**
 * TensorFlow.js LayersModel export (`model.json` + one weight shard) built from standard Keras layers only,
 * each chosen where it computes exactly what the PyTorch-semantics engine does:
 *
 * - input `input` is NCHW like the other exports (and sample-input.bin); a Permute layer turns it to NHWC;
 * - a conv with PyTorch padding p is Conv2D 'same' only where that is the same symmetric padding (stride 1,
 *   p = (k_eff−1)/2); otherwise ZeroPadding2D(p) + 'valid' — TF's 'same' pads stride-2 convs on the bottom/right
 *   only, which shifts every window by one pixel;
 * - a depthwise conv followed by its 1×1 conv (DARTS's sep/dil convs) is one SeparableConv2D; tfjs convs
 *   cannot combine stride 2 with dilation 2, so that case runs at stride 1 and keeps every second row and
 *   column (a 1×1 pooling of stride 2), which selects exactly the stride-2 windows;
 * - pooling with padding p uses TF's 'same' padding, which — like PyTorch's count_include_pad=False and max
 *   pooling — leaves padded cells out; where 'same' would place the windows differently (stride 2 on an even
 *   size) a row/column is appended first and the extra output cropped off, chosen so that no kept window
 *   covers the appended cells;
 * - the `none` op's zeros are Rescaling(scale 0), BatchNorm is BatchNormalization with the running statistics.
 *
 * Pure: returns the model.json object and the weight bytes.
 */
import type { Conv2dLayer, Network } from '../networks/layers.js';
import { oihwToHwio, type ParamValues } from '../networks/params.js';
import type { BnRunning } from '../train/step.js';
import { consumerCounts, liveNodes, traceNetwork, type GraphNode } from './graph.js';

export const TFJS_WEIGHTS_FILE = 'weights.bin';

interface KerasLayer {
  class_name: string;
  config: Record<string, unknown>;
  name: string;
  inbound_nodes: [string, number, number, Record<string, never>][][];
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

export interface TfjsModel {
  /** The model.json object (format 'layers-model'), weights in `weights.bin`. */
  modelJson: Record<string, unknown>;
  weightData: Uint8Array;
}

export interface TfjsExportOptions {
  producerVersion: string;
  /** Stored as model.json's userDefinedMetadata. */
  metadata?: Record<string, unknown>;
}

/**
 * How 'same' pooling reproduces PyTorch pooling with padding `pad` along one axis of size `size`: append `extra`
 * cells, pool with 'same', crop `crop` outputs from the end; null if no such choice exists.
 */
export function samePoolPlan(size: number, kernel: number, stride: number, pad: number): { extra: number; crop: number } | null {
  const wanted = Math.floor((size + 2 * pad - kernel) / stride) + 1;
  for (let extra = 0; extra <= stride; extra++) {
    const len = size + extra;
    const out = Math.ceil(len / stride);
    const before = Math.floor(Math.max((out - 1) * stride + kernel - len, 0) / 2);
    if (before !== pad || out < wanted) continue;
    // The last kept window must not reach appended cells (TF's own padding beyond them is excluded, as PyTorch's is).
    const lastEnd = -pad + stride * (wanted - 1) + kernel - 1;
    if (extra > 0 && lastEnd >= size) continue;
    return { extra, crop: out - wanted };
  }
  return null;
}

/** The TF.js LayersModel of a network with its trained weights. */
export function exportTfjs(net: Network, params: ParamValues, running: BnRunning, opts: TfjsExportOptions): TfjsModel {
  const g = traceNetwork(net);
  const consumers = consumerCounts(g);
  const layers: KerasLayer[] = [];
  const weightSpecs: WeightSpec[] = [];
  const weightParts: Float32Array[] = [];
  const refs = new Map<number, string>();
  const used = new Set<string>();
  let seq = 0;
  const param = (name: string): Float32Array => {
    const v = params.get(name);
    if (v === undefined) throw new Error(`tfjs export: missing parameter ${name}`);
    return v;
  };
  const unique = (base: string): string => {
    let name = base;
    while (used.has(name)) name = `${base}_${seq++}`;
    used.add(name);
    return name;
  };
  const layer = (className: string, base: string, config: Record<string, unknown>, inputs: string[]): string => {
    const name = unique(base);
    layers.push({ class_name: className, config: { name, trainable: false, dtype: 'float32', ...config }, name, inbound_nodes: inputs.length ? [inputs.map((i) => [i, 0, 0, {}])] : [] });
    return name;
  };
  const weight = (layerName: string, w: string, shape: number[], data: Float32Array): void => {
    weightSpecs.push({ name: `${layerName}/${w}`, shape, dtype: 'float32' });
    weightParts.push(data);
  };
  const cl = { data_format: 'channels_last' };
  const pad2 = (x: string, base: string, t: number, b: number, l: number, r: number): string =>
    t + b + l + r === 0 ? x : layer('ZeroPadding2D', `${base}.pad`, { ...cl, padding: [[t, b], [l, r]] }, [x]);
  const crop2 = (x: string, base: string, t: number, b: number, l: number, r: number): string =>
    t + b + l + r === 0 ? x : layer('Cropping2D', `${base}.crop`, { ...cl, cropping: [[t, b], [l, r]] }, [x]);
  /** Keeps every `stride`-th row and column starting at 0: a 1×1 pooling of that stride. */
  const subsample = (x: string, base: string, stride: number): string =>
    stride === 1 ? x : layer('MaxPooling2D', `${base}.subsample`, { ...cl, pool_size: [1, 1], strides: [stride, stride], padding: 'valid' }, [x]);

  /** PyTorch-padded conv geometry → (input after explicit padding, Keras padding, stride). */
  function convInput(x: string, l: Conv2dLayer, strideWanted: number): { x: string; padding: 'same' | 'valid' } {
    const eff = (l.kernel - 1) * (l.dilation ?? 1) + 1;
    if (strideWanted === 1 && 2 * l.pad === eff - 1) return { x, padding: 'same' };
    return { x: pad2(x, l.name, l.pad, l.pad, l.pad, l.pad), padding: 'valid' };
  }

  const live = liveNodes(g);
  const fusedInto = new Map<number, GraphNode>(); // pointwise conv id → its depthwise conv node
  for (const n of live) {
    if (n.op.kind !== 'conv' || (n.op.layer.groups ?? 1) === 1) continue;
    const dwName = n.op.layer.name;
    const pw = live.find((m) => m.inputs[0] === n.id && m.op.kind === 'conv');
    const pwLayer = pw && pw.op.kind === 'conv' ? pw.op.layer : undefined;
    const ok = pwLayer && consumers[n.id] === 1 && (pwLayer.groups ?? 1) === 1 && pwLayer.kernel === 1 && pwLayer.stride === 1 && pwLayer.pad === 0;
    if (!ok || !pw) throw new Error(`tfjs export: depthwise conv ${dwName} is not followed by a 1×1 conv (not expressible as SeparableConv2D)`);
    fusedInto.set(pw.id, n);
  }

  for (const n of live) {
    const x = n.inputs.map((i) => refs.get(i)!);
    const op = n.op;
    let out: string;
    switch (op.kind) {
      case 'input': {
        const [c, h, w] = n.shape;
        const input = unique('input');
        layers.push({ class_name: 'InputLayer', config: { batch_input_shape: [null, c, h, w], dtype: 'float32', sparse: false, name: input }, name: input, inbound_nodes: [] });
        out = layer('Permute', 'input.nhwc', { dims: [2, 3, 1] }, [input]);
        break;
      }
      case 'conv': {
        const l = op.layer;
        if ((l.groups ?? 1) !== 1) {
          out = x[0]; // emitted with its pointwise conv
          break;
        }
        const dwNode = fusedInto.get(n.id);
        if (dwNode && dwNode.op.kind === 'conv') {
          const dw = dwNode.op.layer;
          const d = dw.dilation ?? 1;
          const dwInput = refs.get(dwNode.inputs[0])!;
          // Stride and dilation together are not supported by tfjs: stride 1, then every stride-th output.
          const stride = d > 1 ? 1 : dw.stride;
          const inp = convInput(dwInput, dw, stride);
          const name = layer(
            'SeparableConv2D',
            l.name,
            { ...cl, filters: l.outChannels, kernel_size: [dw.kernel, dw.kernel], strides: [stride, stride], padding: inp.padding, dilation_rate: [d, d], depth_multiplier: 1, activation: 'linear', use_bias: !!l.bias },
            [inp.x],
          );
          const c = dw.inChannels;
          // depthwise [C,1,k,k] → [k,k,C,1]; pointwise [O,C,1,1] → [1,1,C,O]
          weight(name, 'depthwise_kernel', [dw.kernel, dw.kernel, c, 1], oihwToHwio(param(dw.weight), c, 1, dw.kernel, dw.kernel));
          weight(name, 'pointwise_kernel', [1, 1, c, l.outChannels], oihwToHwio(param(l.weight), l.outChannels, c, 1, 1));
          if (l.bias) weight(name, 'bias', [l.outChannels], param(l.bias));
          out = d > 1 && dw.stride > 1 ? subsample(name, l.name, dw.stride) : name;
          break;
        }
        const d = l.dilation ?? 1;
        const stride = d > 1 ? 1 : l.stride;
        const inp = convInput(x[0], l, stride);
        const name = layer('Conv2D', l.name, { ...cl, filters: l.outChannels, kernel_size: [l.kernel, l.kernel], strides: [stride, stride], padding: inp.padding, dilation_rate: [d, d], activation: 'linear', use_bias: !!l.bias }, [inp.x]);
        weight(name, 'kernel', [l.kernel, l.kernel, l.inChannels, l.outChannels], oihwToHwio(param(l.weight), l.outChannels, l.inChannels, l.kernel, l.kernel));
        if (l.bias) weight(name, 'bias', [l.outChannels], param(l.bias));
        out = d > 1 && l.stride > 1 ? subsample(name, l.name, l.stride) : name;
        break;
      }
      case 'linear': {
        const l = op.layer;
        // The classifier is the output: named `logits`, like the ONNX export's output.
        const name = layer('Dense', n.id === g.output ? 'logits' : l.name, { units: l.outFeatures, activation: 'linear', use_bias: !!l.bias }, x);
        // PyTorch [out, in] → Keras [in, out]
        const w = param(l.weight);
        const k = new Float32Array(w.length);
        for (let o = 0; o < l.outFeatures; o++) for (let i = 0; i < l.inFeatures; i++) k[i * l.outFeatures + o] = w[o * l.inFeatures + i];
        weight(name, 'kernel', [l.inFeatures, l.outFeatures], k);
        if (l.bias) weight(name, 'bias', [l.outFeatures], param(l.bias));
        out = name;
        break;
      }
      case 'batchNorm': {
        const l = op.layer;
        const r = running.get(l.name);
        if (r === undefined) throw new Error(`tfjs export: no running statistics for ${l.name}`);
        const affine = l.weight !== undefined;
        const name = layer('BatchNormalization', l.name, { axis: -1, epsilon: l.eps, momentum: 0.9, center: affine, scale: affine }, x);
        if (affine) {
          weight(name, 'gamma', [l.channels], param(l.weight!));
          weight(name, 'beta', [l.channels], param(l.bias!));
        }
        weight(name, 'moving_mean', [l.channels], r.mean);
        weight(name, 'moving_variance', [l.channels], r.variance);
        out = name;
        break;
      }
      case 'relu':
        out = layer('Activation', `relu`, { activation: 'relu' }, x);
        break;
      case 'avgPool':
      case 'maxPool': {
        const cls = op.kind === 'avgPool' ? 'AveragePooling2D' : 'MaxPooling2D';
        const base = op.kind === 'avgPool' ? 'avg_pool' : 'max_pool';
        const pool = { ...cl, pool_size: [op.kernel, op.kernel], strides: [op.stride, op.stride] };
        if (op.pad === 0) {
          out = layer(cls, base, { ...pool, padding: 'valid' }, x);
          break;
        }
        const [, h, w] = g.nodes[n.inputs[0]].shape;
        const ph = samePoolPlan(h, op.kernel, op.stride, op.pad);
        const pw = samePoolPlan(w, op.kernel, op.stride, op.pad);
        if (!ph || !pw) throw new Error(`tfjs export: ${op.kernel}×${op.kernel} pooling, stride ${op.stride}, padding ${op.pad} on ${h}×${w} has no exact 'same' equivalent`);
        const padded = pad2(x[0], base, 0, ph.extra, 0, pw.extra);
        const pooled = layer(cls, base, { ...pool, padding: 'same' }, [padded]);
        out = crop2(pooled, base, 0, ph.crop, 0, pw.crop);
        break;
      }
      case 'add':
        out = layer('Add', 'add', {}, x);
        break;
      case 'zeros':
        out = layer('Rescaling', 'zeros', { scale: 0, offset: 0 }, x);
        break;
      case 'globalAvgPool':
        out = layer('GlobalAveragePooling2D', 'global_avg_pool', cl, x);
        break;
      case 'concat':
        out = layer('Concatenate', 'concat', { axis: -1 }, x);
        break;
      case 'crop':
        out = crop2(x[0], 'crop', op.top, 0, op.left, 0);
        break;
    }
    refs.set(n.id, out);
  }

  const inputName = layers[0].name;
  const outputName = refs.get(g.output)!;
  const total = weightParts.reduce((s, p) => s + p.length, 0);
  const data = new Float32Array(total);
  let at = 0;
  for (const p of weightParts) {
    data.set(p, at);
    at += p.length;
  }
  const modelJson = {
    format: 'layers-model',
    generatedBy: `robot-nas ${opts.producerVersion}`,
    convertedBy: null,
    modelTopology: {
      class_name: 'Model',
      config: { name: 'robot_nas', layers, input_layers: [[inputName, 0, 0]], output_layers: [[outputName, 0, 0]] },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: weightSpecs }],
    ...(opts.metadata ? { userDefinedMetadata: opts.metadata } : {}),
  };
  return { modelJson, weightData: new Uint8Array(data.buffer) };
}
