/**
 * ONNX export (opset 13, IR version 7): one input `input` (float32 [batch, C, H, W], already normalised as the
 * model card says) and one output `logits` (float32 [batch, classes]); the batch dimension is symbolic.
 * Every op maps one to one: PyTorch's conv/pool padding is ONNX's explicit `pads`, average pooling keeps
 * count_include_pad = 0, BatchNorm is the inference-mode operator with the running statistics, and weights
 * are initializers in PyTorch layout (which is ONNX's). Pure: returns the bytes.
 */
import type { Network } from '../networks/layers.js';
import type { ParamValues } from '../networks/params.js';
import type { BnRunning } from '../train/step.js';
import { liveNodes, traceNetwork, type GraphNode } from './graph.js';
import { ONNX_FLOAT, ONNX_INT64, onnxRoot } from './onnx-schema.js';

export const ONNX_OPSET = 13;
const IR_VERSION = 7;

export interface OnnxExportOptions {
  producerVersion: string;
  /** Free-form key/value pairs stored as the model's metadata_props (architecture, preprocessing, …). */
  metadata?: Record<string, string>;
  docString?: string;
}

interface Attr {
  name: string;
  type: number;
  i?: number;
  f?: number;
  ints?: number[];
  t?: unknown;
}

const INT = 2;
const FLOAT = 1;
const INTS = 7;
const TENSOR = 4;
const ints = (name: string, v: number[]): Attr => ({ name, type: INTS, ints: v });
const int = (name: string, v: number): Attr => ({ name, type: INT, i: v });
const float = (name: string, v: number): Attr => ({ name, type: FLOAT, f: v });

function floatTensor(name: string, dims: number[], data: Float32Array): object {
  return { name, dims, data_type: ONNX_FLOAT, raw_data: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
}

function int64Tensor(name: string, data: number[]): object {
  const v = BigInt64Array.from(data, (x) => BigInt(x));
  return { name, dims: [data.length], data_type: ONNX_INT64, raw_data: new Uint8Array(v.buffer) };
}

function valueInfo(name: string, dims: (number | string)[]): object {
  return {
    name,
    type: { tensor_type: { elem_type: ONNX_FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) } } },
  };
}

/** The ONNX model of a network with its trained weights. */
export function exportOnnx(net: Network, params: ParamValues, running: BnRunning, opts: OnnxExportOptions): Uint8Array {
  const g = traceNetwork(net);
  const nodes: object[] = [];
  const initializers: object[] = [];
  const names = new Map<number, string>();
  let seq = 0;
  const param = (name: string): Float32Array => {
    const v = params.get(name);
    if (v === undefined) throw new Error(`onnx export: missing parameter ${name}`);
    return v;
  };
  const emit = (op: string, inputs: string[], attrs: Attr[], output = `t${seq}`): string => {
    nodes.push({ op_type: op, name: `${op}_${seq++}`, input: inputs, output: [output], attribute: attrs });
    return output;
  };
  const constant = new Set<string>();
  const addInit = (name: string, t: object): string => {
    if (!constant.has(name)) {
      constant.add(name);
      initializers.push(t);
    }
    return name;
  };
  const spec = new Map(net.params.map((p) => [p.name, p.shape]));

  for (const n of liveNodes(g)) {
    const x = n.inputs.map((i) => names.get(i)!);
    const last = n.id === g.output;
    const out = last ? 'logits' : undefined;
    names.set(n.id, translate(n, x, out));
  }

  function translate(n: GraphNode, x: string[], out: string | undefined): string {
    const op = n.op;
    switch (op.kind) {
      case 'input':
        return 'input';
      case 'conv': {
        const l = op.layer;
        const w = addInit(l.weight, floatTensor(l.weight, spec.get(l.weight)!, param(l.weight)));
        const inputs = [x[0], w];
        if (l.bias) inputs.push(addInit(l.bias, floatTensor(l.bias, spec.get(l.bias)!, param(l.bias))));
        const d = l.dilation ?? 1;
        return emit('Conv', inputs, [ints('kernel_shape', [l.kernel, l.kernel]), ints('strides', [l.stride, l.stride]), ints('pads', [l.pad, l.pad, l.pad, l.pad]), ints('dilations', [d, d]), int('group', l.groups ?? 1)], out);
      }
      case 'linear': {
        const l = op.layer;
        const inputs = [x[0], addInit(l.weight, floatTensor(l.weight, spec.get(l.weight)!, param(l.weight)))];
        if (l.bias) inputs.push(addInit(l.bias, floatTensor(l.bias, spec.get(l.bias)!, param(l.bias))));
        return emit('Gemm', inputs, [int('transB', 1)], out);
      }
      case 'batchNorm': {
        const l = op.layer;
        const r = running.get(l.name);
        if (r === undefined) throw new Error(`onnx export: no running statistics for ${l.name}`);
        const c = l.channels;
        // BatchNorm without affine parameters is the operator with scale 1 and bias 0.
        const scale = l.weight ? param(l.weight) : new Float32Array(c).fill(1);
        const bias = l.bias ? param(l.bias) : new Float32Array(c);
        const inputs = [
          x[0],
          addInit(`${l.name}.weight`, floatTensor(`${l.name}.weight`, [c], scale)),
          addInit(`${l.name}.bias`, floatTensor(`${l.name}.bias`, [c], bias)),
          addInit(`${l.name}.running_mean`, floatTensor(`${l.name}.running_mean`, [c], r.mean)),
          addInit(`${l.name}.running_var`, floatTensor(`${l.name}.running_var`, [c], r.variance)),
        ];
        return emit('BatchNormalization', inputs, [float('epsilon', l.eps)], out);
      }
      case 'relu':
        return emit('Relu', x, [], out);
      case 'avgPool':
      case 'maxPool': {
        const attrs = [ints('kernel_shape', [op.kernel, op.kernel]), ints('strides', [op.stride, op.stride]), ints('pads', [op.pad, op.pad, op.pad, op.pad])];
        if (op.kind === 'avgPool') attrs.push(int('count_include_pad', 0));
        return emit(op.kind === 'avgPool' ? 'AveragePool' : 'MaxPool', x, attrs, out);
      }
      case 'add':
        return emit(x.length === 2 ? 'Add' : 'Sum', x, [], out);
      case 'zeros': {
        const shape = emit('Shape', x, []);
        return emit('ConstantOfShape', [shape], [{ name: 'value', type: TENSOR, t: floatTensor('', [1], new Float32Array(1)) }], out);
      }
      case 'globalAvgPool': {
        const p = emit('GlobalAveragePool', x, []);
        return emit('Flatten', [p], [int('axis', 1)], out);
      }
      case 'concat':
        return emit('Concat', x, [int('axis', 1)], out);
      case 'crop': {
        const [, h, w] = n.shape;
        const k = `crop_${op.top}_${op.left}_${h + op.top}_${w + op.left}`;
        const starts = addInit(`${k}.starts`, int64Tensor(`${k}.starts`, [op.top, op.left]));
        const ends = addInit(`${k}.ends`, int64Tensor(`${k}.ends`, [op.top + h, op.left + w]));
        const axes = addInit(`${k}.axes`, int64Tensor(`${k}.axes`, [2, 3]));
        return emit('Slice', [x[0], starts, ends, axes], [], out);
      }
    }
  }

  const [c, h, w] = net.inputShape;
  const model = {
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'robot-nas',
    producer_version: opts.producerVersion,
    ...(opts.docString ? { doc_string: opts.docString } : {}),
    graph: {
      name: 'robot_nas',
      node: nodes,
      initializer: initializers,
      input: [valueInfo('input', ['batch', c, h, w])],
      output: [valueInfo('logits', ['batch', net.numClasses])],
    },
    metadata_props: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
  const Model = onnxRoot().lookupType('onnx.ModelProto');
  const err = Model.verify(model);
  if (err) throw new Error(`onnx export: ${err}`);
  return Model.encode(Model.fromObject(model)).finish();
}
