import { AdExec, type ADNode, type AdExecOptions } from '../engine/autodiff.js';
import { disposeArena, inArena, Tensor } from '../engine/tensor.js';
import type { Exec, Network } from '../networks/layers.js';
import { execParams, nchwToNhwc, type ParamValues } from '../networks/params.js';
import { ObservedExec, type Observer } from './observe.js';

/**
 * A forward pass on the engine for the metrics that read feature maps or take their own backward passes (ZiCo,
 * MeCo, SWAP, AZ-NAS). Every BatchNorm runs in training mode on the batch's statistics, as the official code of
 * each of them does, with PyTorch's rounding on constant channels (AdExecOptions.torchBnRounding).
 */

/** Parameters in the layouts AdExec reads (conv HWIO; the rest as stored). */
export function engineParams(net: Network, params: ParamValues): Map<string, Float32Array> {
  return execParams(net, params);
}

export interface ForwardRun {
  exec: AdExec;
  input: ADNode;
  logits: ADNode;
}

/**
 * Runs `net` on n images (NCHW float32) in an arena freed when `use` returns (together with the executor), so
 * `use` may read views and run backward passes. `observer` sees every module output.
 */
export function withForward<R>(
  net: Network,
  params: Map<string, Float32Array>,
  x: Float32Array,
  n: number,
  options: { observer?: Observer<ADNode>; onReluInput?: AdExecOptions['onReluInput']; inputGrad?: boolean },
  use: (run: ForwardRun) => R,
): R {
  const [c, h, w] = net.inputShape;
  if (x.length !== n * c * h * w) throw new RangeError(`forward: ${x.length} input values for ${n} images of ${c}×${h}×${w}`);
  const arena: Tensor[] = [];
  const exec = new AdExec(params, { dual: false, torchBnRounding: true, onReluInput: options.onReluInput });
  try {
    return inArena(arena, () => {
      const input = exec.input(Tensor.from(nchwToNhwc(x, n, c, h, w), [n, h, w, c]), options.inputGrad ?? false);
      const runner: Exec<ADNode> = options.observer ? new ObservedExec(exec, options.observer) : exec;
      const logits = net.forward(runner, input);
      return use({ exec, input, logits });
    });
  } finally {
    exec.dispose();
    disposeArena(arena);
  }
}
