import type { BatchNormLayer, Conv2dLayer, Exec, LinearLayer, ModuleRole, ReluSite } from '../networks/layers.js';

/** The operations whose outputs are outputs of a PyTorch module of their own (Conv2d, BatchNorm2d, ReLU, pools, Linear). */
export type ModuleOp = 'conv' | 'linear' | 'batchNorm' | 'relu' | 'avgPool' | 'maxPool' | 'globalAvgPool';

export interface Observer<T> {
  /** Every output of a module-like operation. `kernel` is the pooling window (avgPool/maxPool). */
  op?(kind: ModuleOp, out: T, kernel?: number): void;
  /** Every module mark of the network (Exec.module). */
  module?(name: string, role: ModuleRole, x: T): void;
}

/**
 * An executor that runs every operation on `inner` and reports module outputs to `observer` — the forward hooks
 * of the feature-map metrics (MeCo, AZ-NAS). Element-wise sums, concatenations and crops are not modules in the
 * official PyTorch networks, so they are not reported.
 */
export class ObservedExec<T> implements Exec<T> {
  constructor(
    private readonly inner: Exec<T>,
    private readonly observer: Observer<T>,
  ) {}

  private seen(kind: ModuleOp, out: T, kernel?: number): T {
    this.observer.op?.(kind, out, kernel);
    return out;
  }

  conv(layer: Conv2dLayer, x: T): T {
    return this.seen('conv', this.inner.conv(layer, x));
  }
  linear(layer: LinearLayer, x: T): T {
    return this.seen('linear', this.inner.linear(layer, x));
  }
  batchNorm(layer: BatchNormLayer, x: T): T {
    return this.seen('batchNorm', this.inner.batchNorm(layer, x));
  }
  relu(site: ReluSite, x: T): T {
    return this.seen('relu', this.inner.relu(site, x));
  }
  avgPool(x: T, kernel: number, stride: number, pad: number): T {
    return this.seen('avgPool', this.inner.avgPool(x, kernel, stride, pad), kernel);
  }
  add(xs: T[]): T {
    return this.inner.add(xs);
  }
  zerosLike(x: T): T {
    return this.inner.zerosLike(x);
  }
  globalAvgPool(x: T): T {
    return this.seen('globalAvgPool', this.inner.globalAvgPool(x));
  }
  maxPool(x: T, kernel: number, stride: number, pad: number): T {
    return this.seen('maxPool', required(this.inner.maxPool, 'maxPool').call(this.inner, x, kernel, stride, pad), kernel);
  }
  concat(xs: T[]): T {
    return required(this.inner.concat, 'concat').call(this.inner, xs);
  }
  crop(x: T, top: number, left: number): T {
    return required(this.inner.crop, 'crop').call(this.inner, x, top, left);
  }
  module(name: string, role: ModuleRole, x: T): void {
    this.inner.module?.(name, role, x);
    this.observer.module?.(name, role, x);
  }
}

function required<F>(f: F | undefined, name: string): F {
  if (f === undefined) throw new Error(`ObservedExec: the inner executor does not implement ${name}`);
  return f;
}
