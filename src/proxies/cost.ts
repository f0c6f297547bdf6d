import { convOut, type ActivationSite, type BatchNormLayer, type Conv2dLayer, type Exec, type LinearLayer, type Network, type ReluSite } from '../networks/layers.js';
import { countParams } from '../networks/params.js';

/** Activation shape [H, W, C] (or [F] after global pooling). */
type Shape = number[];

/**
 * Walks the network on shapes only and counts multiply-accumulates of conv and linear layers (the usual
 * "FLOPs" of NAS papers): conv = H_out·W_out·C_out·(C_in/groups)·k², linear = in·out, per image, biases,
 * BatchNorm, pooling, additions and concatenations not counted. Dilated kernels cover (k−1)·d+1 pixels for
 * the output size but still cost k² MACs per output (DARTS's dil_conv); depthwise convs (groups = C_in) cost
 * H_out·W_out·C_out·k².
 */
class MacCounter implements Exec<Shape> {
  macs = 0;

  conv(layer: Conv2dLayer, x: Shape): Shape {
    const eff = (layer.kernel - 1) * (layer.dilation ?? 1) + 1;
    const ho = convOut(x[0], eff, layer.stride, layer.pad);
    const wo = convOut(x[1], eff, layer.stride, layer.pad);
    const groups = layer.groups ?? 1;
    this.macs += ho * wo * layer.outChannels * (layer.inChannels / groups) * layer.kernel * layer.kernel;
    return [ho, wo, layer.outChannels];
  }
  linear(layer: LinearLayer, _x: Shape): Shape {
    this.macs += layer.inFeatures * layer.outFeatures;
    return [layer.outFeatures];
  }
  batchNorm(_l: BatchNormLayer, x: Shape): Shape {
    return x;
  }
  relu(_s: ReluSite, x: Shape): Shape {
    return x;
  }
  avgPool(x: Shape, kernel: number, stride: number, pad: number): Shape {
    return [convOut(x[0], kernel, stride, pad), convOut(x[1], kernel, stride, pad), x[2]];
  }
  maxPool(x: Shape, kernel: number, stride: number, pad: number): Shape {
    return [convOut(x[0], kernel, stride, pad), convOut(x[1], kernel, stride, pad), x[2]];
  }
  concat(xs: Shape[]): Shape {
    return [xs[0][0], xs[0][1], xs.reduce((c, x) => c + x[2], 0)];
  }
  crop(x: Shape, top: number, left: number): Shape {
    return [Math.max(0, x[0] - top), Math.max(0, x[1] - left), x[2]];
  }
  add(xs: Shape[]): Shape {
    return xs[0];
  }
  zerosLike(x: Shape): Shape {
    return x;
  }
  globalAvgPool(x: Shape): Shape {
    return [x[2]];
  }
  activation(_s: ActivationSite, x: Shape): Shape {
    return x;
  }
  channelScale(x: Shape, _s: Shape): Shape {
    return x;
  }
}

/** Multiply-accumulates of one forward pass of one image (conv and linear layers). */
export function countMacs(net: Network): number {
  const counter = new MacCounter();
  const [c, h, w] = net.inputShape;
  net.forward(counter, [h, w, c]);
  return counter.macs;
}

export { countParams };
