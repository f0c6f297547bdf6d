import type { BatchNormLayer, Conv2dLayer, LinearLayer, ParamSpec, ReluSite, WeightLayer } from './layers.js';

/**
 * Records layers and their parameters in construction order, which is made to match PyTorch's
 * state_dict order (so params.bin files load positionally as well as by name).
 */
export class NetworkBuilder {
  readonly params: ParamSpec[] = [];
  readonly weightLayers: WeightLayer[] = [];
  readonly batchNorms: BatchNormLayer[] = [];
  readonly relus: ReluSite[] = [];

  conv(name: string, inChannels: number, outChannels: number, kernel: number, stride: number, pad: number, bias: boolean): Conv2dLayer {
    const fanIn = inChannels * kernel * kernel;
    const layer: Conv2dLayer = { kind: 'conv', name, inChannels, outChannels, kernel, stride, pad, weight: `${name}.weight` };
    this.params.push({ name: layer.weight, shape: [outChannels, inChannels, kernel, kernel], init: { kind: 'kaiming_uniform', fanIn } });
    if (bias) {
      layer.bias = `${name}.bias`;
      this.params.push({ name: layer.bias, shape: [outChannels], init: { kind: 'uniform_fan_in', fanIn } });
    }
    this.weightLayers.push(layer);
    return layer;
  }

  /**
   * Depthwise conv (groups = channels, no bias), optionally dilated: PyTorch weight [C, 1, k, k], fan-in k². `sum`: see
   * Conv2dLayer.depthwiseSum.
   */
  depthwiseConv(name: string, channels: number, kernel: number, stride: number, pad: number, dilation: number, sum: 'double' | 'float' = 'float'): Conv2dLayer {
    const layer: Conv2dLayer = {
      kind: 'conv',
      name,
      inChannels: channels,
      outChannels: channels,
      kernel,
      stride,
      pad,
      weight: `${name}.weight`,
      groups: channels,
      dilation,
      depthwiseSum: sum,
    };
    this.params.push({ name: layer.weight, shape: [channels, 1, kernel, kernel], init: { kind: 'kaiming_uniform', fanIn: kernel * kernel } });
    this.weightLayers.push(layer);
    return layer;
  }

  linear(name: string, inFeatures: number, outFeatures: number, bias: boolean): LinearLayer {
    const layer: LinearLayer = { kind: 'linear', name, inFeatures, outFeatures, weight: `${name}.weight` };
    this.params.push({ name: layer.weight, shape: [outFeatures, inFeatures], init: { kind: 'kaiming_uniform', fanIn: inFeatures } });
    if (bias) {
      layer.bias = `${name}.bias`;
      this.params.push({ name: layer.bias, shape: [outFeatures], init: { kind: 'uniform_fan_in', fanIn: inFeatures } });
    }
    this.weightLayers.push(layer);
    return layer;
  }

  batchNorm(name: string, channels: number, affine: boolean, keepInSynflow: boolean, eps = 1e-5): BatchNormLayer {
    const layer: BatchNormLayer = { name, channels, eps, keepInSynflow };
    if (affine) {
      layer.weight = `${name}.weight`;
      layer.bias = `${name}.bias`;
      this.params.push({ name: layer.weight, shape: [channels], init: { kind: 'const', value: 1 } });
      this.params.push({ name: layer.bias, shape: [channels], init: { kind: 'const', value: 0 } });
    }
    this.batchNorms.push(layer);
    return layer;
  }

  relu(name: string): ReluSite {
    const site: ReluSite = { name };
    this.relus.push(site);
    return site;
  }
}
