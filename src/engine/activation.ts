import { getEngine } from './kernels.js';
import { sampleChannelDot } from './ops.js';
import { Tensor } from './tensor.js';

/**
 * The pointwise activations of mobile networks and squeeze-and-excitation's channel scale on engine tensors
 * (native/kernels/activation.c), with what reverse mode and the dual (tangent) mode of the autodiff need: f(x), f'(x)·g
 * and f'(x)·a + f''(x)·b·c. ReLU itself stays in ops.ts (relu, mask).
 */

/** relu6 = min(max(x, 0), 6) (MobileNetV2); hardswish = x·relu6(x + 3)/6 and hardsigmoid = relu6(x + 3)/6 (MobileNetV3);
 * sigmoid (squeeze-and-excitation gates, MnasNet); silu = x·σ(x) (EfficientNet's swish). */
export const ACTIVATIONS = ['relu6', 'hardswish', 'hardsigmoid', 'sigmoid', 'silu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

const CHUNK = 16384;
const PARALLEL_MIN = 1 << 16;

function act(kind: Activation, mode: 0 | 1 | 2, x: Tensor, a: Tensor | null, b: Tensor | null, c: Tensor | null): Tensor {
  const op = ACTIVATIONS.indexOf(kind);
  if (op < 0) throw new RangeError(`unknown activation '${kind}' (expected one of ${ACTIVATIONS.join(', ')})`);
  const out = Tensor.empty(x.shape);
  const n = x.size;
  getEngine().run('ew_act', [op, mode, x.ptr, a ? a.ptr : 0, b ? b.ptr : 0, c ? c.ptr : 0, out.ptr, n, CHUNK], Math.ceil(n / CHUNK), {
    grain: 1,
    parallel: n >= PARALLEL_MIN,
  });
  return out;
}

/** f(x). */
export function activation(kind: Activation, x: Tensor): Tensor {
  return act(kind, 0, x, null, null, null);
}

/** f'(x)·g: the backward pass (g = ȳ) and the forward tangent (g = ẋ). */
export function activationGrad(kind: Activation, x: Tensor, g: Tensor): Tensor {
  return act(kind, 1, x, g, null, null);
}

/** f'(x)·gt + f''(x)·xt·g: the tangent of the backward pass, x̄̇ = f'·ȳ̇ + f''·ẋ·ȳ (gt null: no first term). */
export function activationGradDual(kind: Activation, x: Tensor, gt: Tensor | null, xt: Tensor, g: Tensor): Tensor {
  return act(kind, 2, x, gt, xt, g);
}

function perImage(x: Tensor, s: Tensor): { n: number; per: number; c: number } {
  const n = x.shape[0];
  const c = x.shape[x.shape.length - 1];
  if (s.size !== n * c) throw new RangeError(`channel scale: [${s.shape.join(', ')}] does not hold one value per image and channel of [${x.shape.join(', ')}]`);
  return { n, per: x.size / (n * c), c };
}

/**
 * x·s with x [N, …, C] and s one value per image and channel ([N, C] or [N, 1, 1, C]); with (b, t) also + b·t (the
 * tangent ẋ·s + x·ṡ in one pass).
 */
export function channelScale(x: Tensor, s: Tensor, b?: Tensor, t?: Tensor): Tensor {
  const { n, per, c } = perImage(x, s);
  const out = Tensor.empty(x.shape);
  getEngine().run('nc_scale', [x.ptr, s.ptr, b ? b.ptr : 0, t ? t.ptr : 0, out.ptr, per, c], n, { parallel: x.size >= PARALLEL_MIN });
  return out;
}

/** Σ over positions of Σ_i a_i·g_i per image and channel (float64 sums), shaped like s: ∂/∂s of ⟨g, x·s⟩ and its tangent. */
export function channelScaleGrad(pairs: readonly [Tensor, Tensor][], sShape: readonly number[]): Tensor {
  const [x] = pairs[0];
  const n = x.shape[0];
  const c = x.shape[x.shape.length - 1];
  const acc = new Float64Array(n * c);
  for (const [a, g] of pairs) {
    const d = sampleChannelDot(a, g, n, c);
    for (let i = 0; i < acc.length; i++) acc[i] += d[i];
  }
  return Tensor.from(Float32Array.from(acc), sShape);
}
